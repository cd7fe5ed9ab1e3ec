"""Hyperparameters written next to the event files, and how they join those of the hparams plugin.

Training frameworks write a run's hyperparameters into its folder as well as (or instead of) the
hparams plugin records: Lightning's TensorBoardLogger `hparams.yaml` (`lightning_logs/version_N/`),
Ray Tune's `params.json` in each trial folder, and the `config.yaml` / `config.json` many scripts
save. Nested mappings are flattened to dotted names (`optimizer: {lr: 0.1}` is `optimizer.lr`).

YAML is read with PyYAML's safe loader: Lightning writes the file with `yaml.dump`, so it holds
nested mappings, flow and block lists, quoted strings, and Python tags (`!!python/tuple`,
`!!python/object:argparse.Namespace`) that a key: value parser would misread without a word. The
Python tags are read as the plain mapping, list or text under them; nothing is ever constructed.

A file that cannot be read or parsed gives a reading warning and is left out; nothing raises.
"""

from __future__ import annotations

import json
import math
from typing import Any

from reportgen.reading.sources import files_beside, open_file

HParams = dict[str, float | str | bool]

# Looked for in a run's folder, in this order: a name the first of them holds is not taken from
# the others (Lightning writes only hparams.yaml; Tune only params.json).
HPARAM_FILES = ("hparams.yaml", "params.json", "config.yaml", "config.json")
# A file this large is not a list of hyperparameters (a dataset, a dumped model config of
# thousands of entries): it is left out with a warning instead of read.
MAX_FILE_BYTES = 1 << 20
# Flattened names beyond this many from one file are left out (with a warning): a sweep table
# cannot show them, and a file that holds them is not a run's settings.
MAX_NAMES = 500


def read_hparam_files(folder: str) -> tuple[HParams, list[str]]:
    """The hyperparameters of the files in `folder` (see HPARAM_FILES), and the warnings met."""
    found: HParams = {}
    warnings: list[str] = []
    for path in files_beside(folder, HPARAM_FILES) if folder else []:
        values = _read(path, warnings)
        for name, value in values.items():
            found.setdefault(name, value)
    return found, warnings


def _read(path: str, warnings: list[str]) -> HParams:
    try:
        with open_file(path) as (stream, size):
            if size > MAX_FILE_BYTES:
                warnings.append(f"{path}: {size} bytes, too large for a file of hyperparameters; ignored")
                return {}
            raw = stream.read()
    except OSError as exc:
        warnings.append(f"{path}: cannot read: {exc.strerror or exc}")
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"{path}: not UTF-8 text; ignored")
        return {}
    try:
        data = json.loads(text) if path.endswith(".json") else _load_yaml(text)
        if data is None:
            return {}
        if not isinstance(data, dict):
            warnings.append(f"{path}: holds a {type(data).__name__}, not a mapping of names to values; ignored")
            return {}
        flat = flatten(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError; YAMLError as _load_yaml raises it; a loop
        warnings.append(f"{path}: cannot be parsed ({exc.__class__.__name__ if not str(exc) else exc}); ignored")
        return {}
    if len(flat) > MAX_NAMES:
        warnings.append(f"{path}: {len(flat)} names; the first {MAX_NAMES} are kept")
        flat = dict(list(flat.items())[:MAX_NAMES])
    return flat


def _load_yaml(text: str) -> Any:
    import yaml  # here: only runs that have a YAML file pay for importing it

    class Loader(yaml.SafeLoader):
        pass

    def untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    for prefix in ("tag:yaml.org,2002:python/", "!"):
        Loader.add_multi_constructor(prefix, untagged)
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader: tags give plain values only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"YAML: {exc.problem or exc.context}{where}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"YAML: {exc}") from None
    except TypeError as exc:  # unhashable keys (`? [a, b]: 1`)
        raise ValueError(f"{exc.__class__.__name__}: {exc}") from None


def flatten(data: dict, prefix: str = "") -> HParams:
    """Nested mappings to dotted names; lists and other values as short text, numbers and
    booleans as they are (`{"optimizer": {"lr": 0.1}, "sizes": [64, 32]}` is
    `{"optimizer.lr": 0.1, "sizes": "[64, 32]"}`)."""
    flat: HParams = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = _value(value)
    return flat


def _value(value: Any) -> float | str | bool:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None:
        return "None"  # as Lightning's log_hyperparams writes it
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _key(name: str) -> str:
    # Lightning's log_hyperparams writes nested names with "/" (optimizer/lr), its hparams.yaml
    # nests them (optimizer.lr here): the same setting.
    return name.replace("/", ".")


def merge_hparams(base: HParams, over: HParams) -> HParams:
    """`base` with `over`'s values on top. A name both hold keeps `base`'s spelling of a number
    that is the same (64 in hparams.yaml, 64.0 in the plugin record, which holds only floats);
    names that differ only by "/" against "." are one."""
    merged = dict(base)
    names = {_key(name): name for name in base}
    for name, value in over.items():
        known = names.get(_key(name))
        if known is None:
            merged[name] = value
            names[_key(name)] = name
        elif not _same_number(merged[known], value):
            merged[known] = value
    return merged


def _same_number(a: float | str | bool, b: float | str | bool) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return a == b if numbers else (a == b and type(a) is type(b))
