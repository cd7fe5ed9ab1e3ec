"""Group histogram tags into layers and classify each tag's kind, across real naming styles.

Styles handled (examples):
- TF1 name scopes: `layer1/weights`, `layer1/biases`, `layer1/layer`, `layer1/activations`,
  the TF tutorial's `layer1/Wx_plus_b/pre_activations`, `layer1/weights/summaries/histogram`;
- Keras callbacks: `sequential/dense_1/kernel/histogram`, `.../bias/histogram`, the older
  `dense_1/kernel_0`, `dense_1/bias_0`, `dense_1_out`, `dense_1/kernel_0_grad`;
- torch module names: `fc1.weight`, `fc1.bias`, `fc1.weight.grad`, `fc1.weight/grad`,
  `grad/fc1.weight`, `gradients/fc1.weight`, `activations/fc1`, `relu1`, nn.MultiheadAttention's
  `in_proj_weight`, nn.LSTM's `weight_ih_l0_reverse`; Lightning, Hugging Face and timm module
  paths (`model.encoder.layer.0.attention.self.query.weight`);
- normalisation layers (`bn1.weight`, `LayerNorm.weight`, `ln_f.bias`, Keras' `gamma`/`beta`)
  are kind `norm`, their running statistics (`running_mean`, `moving_variance`,
  `num_batches_tracked`) kind `buffers`: neither is judged as weights;
- TF1's `variable_summaries` idiom called twice in one scope (`X/summaries/histogram`, then
  `X/summaries_1/histogram`: weights, then biases, in the idiom's order), and leaf names with a
  `_hist`, `_histogram` or `_distribution` suffix (`conv1/weights_hist`, `Model/Weights_Distribution`);
- histograms of data rather than of a layer (RLlib's `hist_stats/episode_reward`, episode
  lengths, rewards, returns, actions, inputs, labels) are kind `data`;
- free names (`Qpred`) become a layer of their own; nothing is ever dropped.

Users override the result with `Options.layers`: a list of {pattern, layer, kind}; the first
pattern that matches a tag (regex search) decides, and `layer` may use groups as \\1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportgen.errors import ConfigError
from reportgen.model import TAG_KINDS

# Decorations writers add that say nothing about the layer.
_SUFFIXES = re.compile(r"(/summaries)?(/histogram|/histograms)$|:\d+$")
_SECOND_SUMMARY = re.compile(r"/summaries_1/histograms?$")  # variable_summaries' second call: the biases
_LEAF_DECORATION = re.compile(r"_(hist|histogram|distribution|dist|summary)$", re.IGNORECASE)
_GRAD_PREFIX = re.compile(r"^(grads?|gradients?|gradient_norms?)[/.]", re.IGNORECASE)
_GRAD_SUFFIX = re.compile(r"([./_](grads?|gradients?))$", re.IGNORECASE)
_ACT_PREFIX = re.compile(r"^(activations?|outputs?|acts?)[/.]", re.IGNORECASE)

_LEAF_KINDS = {
    "weights": {"weight", "weights", "kernel", "w", "embeddings", "embedding", "depthwise_kernel",
                "pointwise_kernel", "recurrent_kernel", "pos_embedding", "position_embeddings", "cls_token"},
    "bias": {"bias", "biases", "b"},
    "norm": {"gamma", "beta"},
    "pre-activations": {"layer", "pre_activations", "preactivations", "pre_activation", "preactivation",
                        "wx_plus_b", "logits_pre", "z", "linear"},
    "activations": {"activations", "activation", "act", "relu", "tanh", "sigmoid", "elu", "gelu", "out",
                    "output", "outputs"},
    "buffers": {"moving_mean", "moving_variance", "running_mean", "running_var", "num_batches_tracked"},
}
# Leaves that end like a parameter: `in_proj_weight`, nn.LSTM's `weight_hh_l0_reverse`.
_WEIGHT_LEAF = re.compile(r"(^|_)weights?(_[a-z]{2}_l\d+(_reverse)?)?$|_kernel$|_embeddings?$", re.IGNORECASE)
_BIAS_LEAF = re.compile(r"(^|_)bias(_[a-z]{2}_l\d+(_reverse)?)?$", re.IGNORECASE)
# A module that normalises: its weight is a gain around 1, its bias a shift.
_NORM_MODULE = re.compile(r"(^|[/._])(bn\d*|batch_?norm\w*|layer_?norm\w*|group_?norm\w*|norm\d*|ln(_\w+)?|gn\d*|"
                          r"rms_?norm\w*)$", re.IGNORECASE)
# Histograms of data, not of a layer: what an environment or a dataset produced.
_DATA_WORD = re.compile(r"hist_stats|episode|(^|[/_])(rewards?|returns?|actions?|observations?|obs|inputs?|"
                        r"labels?|targets?|advantages?)($|[/_])", re.IGNORECASE)
_LEAF_TO_KIND = {leaf: kind for kind, leaves in _LEAF_KINDS.items() for leaf in leaves}
# Free names that read as a layer's activation or as the network's outputs.
_ACTIVATION_WORD = re.compile(r"relu|tanh|sigmoid|gelu|elu|softplus|activation", re.IGNORECASE)
_OUTPUT_WORD = re.compile(r"pred|logit|softmax|prob|output|y_hat|yhat", re.IGNORECASE)


@dataclass
class Layer:
    name: str
    tags: dict[str, str]  # tag -> kind, one of model.TAG_KINDS
    gradient_of: dict[str, str] = field(default_factory=dict)  # gradient tag -> kind of the parameter


@dataclass(frozen=True)
class TagRole:
    layer: str
    kind: str
    gradient_of: str = ""  # for kind "gradients": weights | bias | ""


def _strip_keras_index(leaf: str) -> str:
    return re.sub(r"_\d+$", "", leaf)  # kernel_0 -> kernel


def _split(name: str) -> tuple[str, str]:
    """(layer path, leaf) on the last '/' or '.'."""
    cut = max(name.rfind("/"), name.rfind("."))
    if cut < 0:
        return "", name
    return name[:cut], name[cut + 1:]


def _leaf_kind(layer: str, leaf: str) -> str:
    """The kind a leaf name says, given the module it belongs to; "" when it says none."""
    plain = _LEAF_DECORATION.sub("", _strip_keras_index(leaf)).lower()
    kind = _LEAF_TO_KIND.get(leaf.lower()) or _LEAF_TO_KIND.get(plain, "")
    if not kind and _WEIGHT_LEAF.search(plain):
        kind = "weights"
    elif not kind and _BIAS_LEAF.search(plain):
        kind = "bias"
    if kind in ("weights", "bias") and _NORM_MODULE.search(layer):
        return "norm"
    return kind


def classify(tag: str) -> TagRole:
    """Layer and kind of one tag by its name alone."""
    if _SECOND_SUMMARY.search(tag):
        scope = _SECOND_SUMMARY.sub("", tag)
        return TagRole(scope, "bias") if not _leaf_kind(*_split(scope)) else classify(scope)
    name = _SUFFIXES.sub("", tag)
    is_grad = False
    for pattern in (_GRAD_PREFIX, _GRAD_SUFFIX):
        if pattern.search(name):
            name = pattern.sub("", name)
            is_grad = True
    name = _SUFFIXES.sub("", name)
    if is_grad:
        base = classify(name)
        param = base.kind if base.kind in ("weights", "bias") else ""
        return TagRole(base.layer, "gradients", param)
    if _DATA_WORD.search(name):
        return TagRole(name, "data")
    if _ACT_PREFIX.search(name):
        return TagRole(_ACT_PREFIX.sub("", name), "activations")
    if re.search(r"_out$", name):  # old Keras callback: dense_1_out
        return TagRole(name[:-4], "activations")
    layer, leaf = _split(name)
    layer = re.sub(r"/Wx_plus_b$", "", layer, flags=re.IGNORECASE)  # the TF tutorial's scope
    kind = _leaf_kind(layer, leaf)
    if kind:
        return TagRole(layer or name, kind)  # a free parameter (`pos_embedding`) is a layer of its own
    if tag.endswith("/summaries/histogram"):  # variable_summaries in a scope named after the layer: its weights
        return TagRole(name, "weights")
    if _OUTPUT_WORD.search(name):
        return TagRole(name, "outputs")
    if _ACTIVATION_WORD.search(name):
        return TagRole(name, "activations")
    return TagRole(name, "other")


def _override(tag: str, rules: list[tuple[re.Pattern, dict[str, str]]]) -> TagRole | None:
    for pattern, rule in rules:
        match = pattern.search(tag)
        if match:
            layer = match.expand(rule["layer"]) if rule.get("layer") else classify(tag).layer
            kind = rule.get("kind") or classify(tag).kind
            return TagRole(layer, kind, rule.get("gradient_of", ""))
    return None


def compile_overrides(entries: list[dict[str, str]]) -> list[tuple[re.Pattern, dict[str, str]]]:
    compiled = []
    for entry in entries:
        if not isinstance(entry, dict) or "pattern" not in entry:
            raise ConfigError(f"layers: each entry needs a 'pattern' (got {entry!r})")
        if entry.get("kind") and entry["kind"] not in TAG_KINDS:
            raise ConfigError(f"layers: kind {entry['kind']!r} is not one of {', '.join(TAG_KINDS)}")
        try:
            compiled.append((re.compile(entry["pattern"]), entry))
        except re.error as exc:
            raise ConfigError(f"layers: bad pattern {entry['pattern']!r}: {exc}") from None
    return compiled


def group(tags: list[str], overrides: list[dict[str, str]] | None = None) -> list[Layer]:
    """Layers in order of first appearance; every tag lands in exactly one layer."""
    rules = compile_overrides(overrides or [])
    layers: dict[str, Layer] = {}
    for tag in tags:
        role = _override(tag, rules) or classify(tag)
        layer = layers.setdefault(role.layer, Layer(role.layer, {}))
        layer.tags[tag] = role.kind
        if role.kind == "gradients":
            layer.gradient_of[tag] = role.gradient_of
    return list(layers.values())
