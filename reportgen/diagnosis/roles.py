"""What each scalar is, as an ML engineer reads its name: the training objective, a component of
it, an evaluation loss, an RL value loss, a reward, an accuracy-like metric, a learning rate,
throughput, or something else.

Only the training objective (and, in a run that logs a reward, the reward) is judged for trends;
components, value losses and the rest are described, not judged. The naming of the writers people
use is recognised: Lightning (`train_loss_step`/`_epoch`, `val_loss`, `hp_metric`), Hugging Face
(`train/loss`, `eval/loss`), Keras (`epoch_loss` in runs `train`/`validation`,
`evaluation_loss_vs_iterations`), stable-baselines3 (`rollout/`, `train/`, `time/`), RLlib
(`ray/tune/...`), the Object Detection API (`Loss/total_loss` and its parts), TF1 Estimators
(`loss`, `average_loss`, `global_step/sec`), TF1 tutorials' `cost` (beside a reward: constrained
RL's safety cost, not judged), YOLO (`train/box_loss`, `metrics/mAP_0.5`). Users
override the result with `[tool.reportgen] roles = {"pattern" = "role"}` (a regex searched in the
tag; the first that matches wins).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from reportgen.errors import ConfigError


class Role(enum.StrEnum):
    OBJECTIVE = "objective"  # the training loss the optimiser minimises
    COMPONENT = "objective_component"  # one part of it (regularisation, classification, box, KL...)
    EVAL_LOSS = "eval_loss"  # a validation / evaluation / test loss
    RL_VALUE_LOSS = "rl_value_loss"  # a value, critic or TD loss: its level follows the returns
    REWARD = "reward"  # reward or return: higher is better
    ACCURACY = "accuracy"  # accuracy-like metric: higher is better (accuracy, mAP, F1, AUC, ...)
    LEARNING_RATE = "learning_rate"
    SYSTEM = "system"  # time, throughput, memory
    OTHER = "other"


HIGHER_IS_BETTER = frozenset({Role.REWARD, Role.ACCURACY})
LOSSES = frozenset({Role.OBJECTIVE, Role.COMPONENT, Role.EVAL_LOSS, Role.RL_VALUE_LOSS})


@dataclass(frozen=True)
class ScalarRole:
    role: Role
    evaluation: bool  # logged on validation / evaluation / test data, not the training batches


_SEP = r"(?:^|[/_.\s:-])"
_END = r"(?:$|[/_.\s:(-])"
_EVAL_WORD = re.compile(_SEP + r"(val|valid|validation|eval|evaluation|test|testing|dev|holdout)" + _END, re.I)
_EVAL_RUN = re.compile(r"^(val|valid|validation|eval|evaluation|test|testing|dev)(uation)?([_-].*)?$", re.I)
_KERAS_EVAL = re.compile(r"^evaluation_.*_vs_iterations$", re.I)
_SYSTEM = re.compile(
    r"(^time/|/time/|fps|" + _SEP + r"sps" + _END + r"|samples_per_second|steps_per_second|per_sec|/sec$|"
    r"runtime|_ms$|" + _SEP + r"ms" + _END + r"|memory|gpu|cpu_util|ram_util|throughput|total_flos|flops|"
    r"iter_time|data_time|time_this_iter|time_since|timesteps_total|time_total|queue|" + _SEP + r"counters/)", re.I)
_LEARNING_RATE = re.compile(_SEP + r"(lr\d*|learning_rate|learning-rate|cur_lr|lr-\w+)" + _END, re.I)
_REWARD = re.compile(r"(reward|return|ep_rew|episodic_return|" + _SEP + r"score" + _END + ")", re.I)
_ACCURACY = re.compile(
    _SEP + r"(acc|accuracy|top_?\d+(_acc\w*)?|map|ap\d*|precision|recall|f1|f_1|auc|roc_auc|iou|miou|dice|"
    r"prc|pr_auc|bleu|rouge\w*|meteor|correlation|pearson|spearman|r2|ndcg|mrr|hit_rate|ar@\d+|map@[.\w]+)"
    r"(\d+)?(@[.\w]+)?" + _END, re.I)
_LOSS = re.compile(
    r"(loss|nll|cross_?entropy|xent|" + _SEP + r"(mse|mae|rmse|l1|l2|kl|elbo|td_error|cost)" + _END + ")", re.I)
# TF1 tutorials and many hand-written loops name the training loss `cost`; in a run that logs a
# reward, a cost is the safety constraint of constrained RL (Safety Gym, OmniSafe: the episode's
# cost against its limit), which is not minimised as a loss: described, not judged.
_COST = re.compile(_SEP + "cost" + _END, re.I)
_LOSS_SCALE = re.compile(r"loss_?scale", re.I)
# Lightning's `hp_metric`: the value its TensorBoardLogger shows in the HParams dashboard (-1 until
# the user logs one, then whatever they log there: a loss or an accuracy). A result of the run, not
# a hyperparameter, and not a curve whose direction its name tells: never judged.
_HP_METRIC = re.compile(r"^hp_metric$", re.I)
# Diagnostics of policy optimisation and of training itself, whatever their group is called
# (CleanRL logs them under `losses/`): not losses.
_DIAGNOSTIC = re.compile(r"(approx_kl|kl_coeff|clip_?frac\w*|clip_range|explained_variance|grad_?norm|"
                         r"num_|_count$|entropy_coef|ent_coef$|(^|/)epoch$)", re.I)
_GROUP = re.compile(r"^(losses|loss)/", re.I)  # a group of losses: not a word of the tag's own name
_RL_VALUE = re.compile(r"(vf_loss|value_loss|critic_loss|td_error|td_loss|q_loss|qf\d*_loss|q_value_loss|"
                       r"mse[ _]loss|" + _SEP + r"(value|critic|q)" + _END + ")", re.I)
_RL_POLICY = re.compile(r"(policy|actor|pg_|entropy|ent_coef|approx_kl|clip)", re.I)
# The unqualified objective: "loss", "train/loss", "train_loss_step", "epoch_loss", "Loss/train",
# "Loss/total_loss", "average_loss", "training loss", "batch_loss", "total_loss".
_OBJECTIVE = re.compile(
    r"^(?:.*/)?(?:(train|training|epoch|batch|total|average|avg|mean|overall|full)[_ ]?)?"
    r"(loss|losses|cost)(?:[_/](train|training|total|step|epoch|avg|mean))?(_step|_epoch)?$", re.I)
_LOSS_TRAIN = re.compile(r"^loss/(train|training|total|total_loss)$", re.I)
_SPLIT_PREFIX = re.compile(r"^(train|training|eval|evaluation|val|valid|validation|test)[/_]", re.I)


def is_evaluation(tag: str, run: str) -> bool:
    """Logged on held-out data: by its tag (`val_loss`, `eval/loss`, `test/accuracy`, Keras'
    `evaluation_loss_vs_iterations`) or by its run's folder (`validation`, `eval`, `test`)."""
    if _KERAS_EVAL.search(tag) or _EVAL_WORD.search(tag):
        return True
    return bool(_EVAL_RUN.match(run.rstrip("/").rsplit("/", 1)[-1]))


def classify(tag: str, run: str = "", run_logs_reward: bool = False) -> ScalarRole:
    """The role of one scalar tag of a run, by its name alone."""
    evaluation = is_evaluation(tag, run)
    name = tag.strip()
    if _HP_METRIC.match(name) or _LOSS_SCALE.search(name) or _DIAGNOSTIC.search(name):
        return ScalarRole(Role.OTHER, evaluation)  # e.g. a mixed-precision loss scale, a KL estimate
    if _SYSTEM.search(name):
        return ScalarRole(Role.SYSTEM, evaluation)
    if _LEARNING_RATE.search(name):
        return ScalarRole(Role.LEARNING_RATE, evaluation)
    group = _GROUP.match(name)
    own = name[group.end():] if group else name
    is_loss = bool(group) or bool(_LOSS.search(own))
    if _REWARD.search(name) and not is_loss:
        return ScalarRole(Role.REWARD, evaluation)
    if is_loss:
        return ScalarRole(_loss_role(name, evaluation, run_logs_reward), evaluation)
    if _ACCURACY.search(name):
        return ScalarRole(Role.ACCURACY, evaluation)
    return ScalarRole(Role.OTHER, evaluation)


def _loss_role(name: str, evaluation: bool, run_logs_reward: bool) -> Role:
    bare = _SPLIT_PREFIX.sub("", name)
    objective_like = bool(_OBJECTIVE.match(name) or _OBJECTIVE.match(bare) or _LOSS_TRAIN.match(name))
    if evaluation:
        # Measured on held-out data: the total is the evaluation loss; its parts (an eval run's
        # Loss/regularization_loss, YOLO's val/box_loss) are components, measured there.
        plain = objective_like or re.match(r"^(?:.*/)?(val|valid|validation|eval|evaluation|test)[_/ ]?loss"
                                           r"(_epoch)?$", name, re.I) or _KERAS_EVAL.search(name)
        return Role.EVAL_LOSS if plain else Role.COMPONENT
    if _RL_VALUE.search(name):
        return Role.RL_VALUE_LOSS
    if run_logs_reward and (_RL_POLICY.search(name) or _COST.search(name)):
        return Role.COMPONENT  # a policy / entropy term: signed, weighted, not a level to judge
    if objective_like:
        return Role.OBJECTIVE
    return Role.COMPONENT


def compile_roles(entries: dict[str, str]) -> list[tuple[re.Pattern[str], Role]]:
    """The user's role overrides, checked: ConfigError for a bad pattern or an unknown role."""
    known = ", ".join(r.value for r in Role)
    compiled = []
    for pattern, role in entries.items():
        try:
            compiled.append((re.compile(pattern), Role(role)))
        except re.error as exc:
            raise ConfigError(f"roles: bad pattern {pattern!r}: {exc}") from None
        except ValueError:
            raise ConfigError(f"roles: {role!r} is not a role ({known})") from None
    return compiled


def roles_of(tags: list[str], run: str, overrides: list[tuple[re.Pattern[str], Role]] | None = None
             ) -> dict[str, ScalarRole]:
    """The role of every scalar tag of a run. Value and policy losses are told apart from the
    objective only in a run that logs a reward or return (an RL run)."""
    logs_reward = any(classify(tag, run).role is Role.REWARD for tag in tags)
    found = {}
    for tag in tags:
        role = classify(tag, run, logs_reward)
        for pattern, wanted in overrides or []:
            if pattern.search(tag):
                role = ScalarRole(wanted, role.evaluation or wanted is Role.EVAL_LOSS)
                break
        found[tag] = role
    return found
