"""Pass 1 for models of another kind than a stack of layers trained on labels: autoencoders,
variational autoencoders and GANs, which learn from unlabeled data.

```yaml
model:
  kind: autoencoder                  # sequential (default) | autoencoder | vae | gan
  input_shape: [64]
  encoder: [{type: Dense, units: 8, activation: relu}]     # stacks of layers
  decoder: [{type: Dense, units: 64, activation: sigmoid}]
  noise: {type: GaussianNoise, stddev: 0.1}     # optional: a denoising autoencoder
  anomaly: {error: mse, method: quantile, quantile: 0.99}
model:
  kind: gan
  input_shape: [2]
  latent_dim: 8
  generator: [...]                   # latent_dim -> a sample of input_shape
  discriminator: [...]               # a sample -> one logit (real or generated)
compile:                             # a GAN's: two optimizers and the adversarial loss
  generator_optimizer: {type: Adam, learning_rate: 2.0e-4, beta_1: 0.5}
  discriminator_optimizer: {type: Adam, learning_rate: 2.0e-4, beta_1: 0.5}
  loss: {type: BinaryCrossentropy, from_logits: true}
```

Here only the structure is checked; `dlkit._plan.kinds` resolves the stacks and checks that
they fit together (the decoder gives back the input's shape, the generator's samples fit the
discriminator).
"""

from __future__ import annotations

import copy

from dlkit._core.errors import Problems, did_you_mean
from dlkit._spec.rules import (check_component, check_keys, check_layer, check_shape, is_int,
                               is_number, key_path, mapping_or_none, type_name)

KINDS = ("sequential", "autoencoder", "vae", "gan")
# Each kind's stacks of layers, in the order they run.
STACKS = {"autoencoder": ("encoder", "decoder"), "vae": ("encoder", "decoder"),
          "gan": ("generator", "discriminator")}
KIND_STACKS = ("encoder", "decoder", "generator", "discriminator")
MODEL_KEYS = {
    "autoencoder": ("kind", "input_shape", "encoder", "decoder", "noise", "anomaly"),
    "vae": ("kind", "input_shape", "latent_dim", "encoder", "decoder", "noise", "anomaly"),
    "gan": ("kind", "input_shape", "latent_dim", "generator", "discriminator"),
}
ERRORS = ("mse", "mae")  # a sample's reconstruction error: mean squared or absolute error
METHODS = {"quantile": ("quantile", 0.99), "mean_std": ("std", 3.0)}  # -> its setting, default
# DCGAN's optimizer (Radford et al. 2015), the usual start for a GAN.
GAN_OPTIMIZER = {"type": "Adam", "learning_rate": 2.0e-4, "beta_1": 0.5}
GAN_LOSS = {"type": "BinaryCrossentropy", "from_logits": True}
COMPILE_KEYS = {"autoencoder": ("optimizer", "loss", "metrics"),
                "vae": ("optimizer", "loss"),
                "gan": ("generator_optimizer", "discriminator_optimizer", "loss")}
LOGGED = {"vae": "loss, reconstruction_loss and kl_loss", "gan": "d_loss, g_loss and mmd"}


def model_kind(model: object) -> str | None:
    """The kind a model section names: ``sequential`` when it names none, None when it names
    an unknown one (`check_kind` reports that)."""
    if not isinstance(model, dict) or "kind" not in model:
        return "sequential"
    return model["kind"] if isinstance(model["kind"], str) and model["kind"] in KINDS else None


def check_kind(model: dict, problems: Problems) -> bool:
    """Whether ``model.kind`` (if given) is a known kind; records a problem otherwise."""
    if "kind" not in model or model["kind"] in KINDS:
        return True
    kind = model["kind"]
    problems.add("model.kind", f"unknown model kind {kind!r}{did_you_mean(kind, KINDS)}; "
                 f"expected one of: {', '.join(KINDS)}")
    return False


def check_kind_model(model: dict, problems: Problems) -> dict:
    """Checks the model section of an autoencoder, VAE or GAN; returns it with defaults."""
    kind = model["kind"]
    for key in ("layers", "graph"):
        if key in model:
            problems.add(f"model.{key}", f"{_a(kind)} has {' and '.join(STACKS[kind])} stacks "
                         f"instead of {key}")
    check_keys({k: v for k, v in model.items() if k not in ("layers", "graph")},
               MODEL_KEYS[kind], "model", problems)
    check_shape(model.get("input_shape"), "model.input_shape", problems)
    checked = {"kind": kind, "input_shape": model.get("input_shape")}
    if "latent_dim" in MODEL_KEYS[kind]:
        checked["latent_dim"] = _latent_dim(model.get("latent_dim"), kind, problems)
    for stack in STACKS[kind]:
        checked[stack] = _stack(model.get(stack), stack, kind, problems)
    if model.get("noise") is not None:
        check_layer(model["noise"], "model.noise", problems)
        checked["noise"] = model["noise"]
    if "anomaly" in MODEL_KEYS[kind]:
        checked["anomaly"] = _anomaly(model.get("anomaly", {}), problems)
    return checked


def _latent_dim(value: object, kind: str, problems: Problems) -> object:
    if not (is_int(value) and 0 < value <= 10**5):
        what = "the generator's input" if kind == "gan" else "the code a sample is encoded to"
        problems.add("model.latent_dim", f"expected a positive integer, the size of {what} "
                     f"(like 8); received {value!r}")
    return value


def _stack(value: object, stack: str, kind: str, problems: Problems) -> object:
    path = f"model.{stack}"
    if isinstance(value, dict) and "graph" in value:
        problems.add(path, f"{_a(kind)}'s {stack} is a list of layers; graphs (inputs, graph, "
                     "outputs) are not supported inside it")
    elif not isinstance(value, list) or not value:
        problems.add(path, f"expected a non-empty list of layers, like [{{type: Dense, units: "
                     f"8}}]; received {type_name(value)}: {value!r}")
    else:
        for index, layer in enumerate(value):
            check_layer(layer, key_path(path, index), problems)
    return value


def _anomaly(value: object, problems: Problems) -> object:
    """``{error, method, quantile | std}``: how a sample's anomaly score is measured and where
    the threshold lies (chosen on the validation data's scores)."""
    section = mapping_or_none(value, "model.anomaly", problems)
    if section is None:
        return value
    method = section.get("method", "quantile")
    setting, default = METHODS.get(method, (None, None))
    check_keys(section, ("error", "method", *(s for s, _ in METHODS.values())), "model.anomaly",
               problems)
    section = {"error": "mse", "method": method, **section}
    if section["error"] not in ERRORS:
        problems.add("model.anomaly.error", f"expected one of {', '.join(ERRORS)} (a sample's "
                     f"mean squared or absolute reconstruction error); received "
                     f"{section['error']!r}{did_you_mean(section['error'], ERRORS)}")
    if setting is None:
        problems.add("model.anomaly.method", f"expected one of {', '.join(METHODS)}; received "
                     f"{method!r}{did_you_mean(method, list(METHODS))}")
        return section
    for other, _ in METHODS.values():
        if other != setting and other in section:
            problems.add(f"model.anomaly.{other}", f"'{other}' is a setting of method "
                         f"{_method_of(other)}, not of {method}")
    section.setdefault(setting, default)
    amount = section[setting]
    fits = 0 < amount < 1 if setting == "quantile" else amount > 0
    if not (is_number(amount) and fits):
        want = "a number between 0 and 1, like 0.99" if setting == "quantile" else \
            "a positive number of standard deviations, like 3"
        problems.add(f"model.anomaly.{setting}", f"expected {want}; received {amount!r}")
    return section


def _method_of(setting: str) -> str:
    return next(method for method, (name, _) in METHODS.items() if name == setting)


def check_kind_compile(value: object, kind: str, problems: Problems) -> object:
    """The compile section of an autoencoder, VAE or GAN: every part has a default."""
    section = mapping_or_none({} if value is None else value, "compile", problems)
    if section is None:
        return value
    allowed = COMPILE_KEYS[kind]
    for key in section:
        if key not in allowed and key in ("optimizer", "metrics", "loss_weights"):
            problems.add(f"compile.{key}", _not_for(kind, key))
    check_keys({k: v for k, v in section.items()
                if k not in ("optimizer", "metrics", "loss_weights")}, allowed, "compile",
               problems)
    defaults = {"optimizer": "adam", "loss": "mse", "metrics": []} if kind != "gan" else \
        {"generator_optimizer": GAN_OPTIMIZER, "discriminator_optimizer": GAN_OPTIMIZER,
         "loss": GAN_LOSS}
    section = {**copy.deepcopy({k: v for k, v in defaults.items() if k in allowed}), **section}
    for key in allowed:
        if key == "metrics":
            _metrics(section[key], problems)
        else:
            what = "loss" if key == "loss" else "optimizer"
            check_component(section[key], f"compile.{key}", problems, what=what)
    return section


def _a(kind: str) -> str:
    """``an autoencoder``, ``a VAE``, ``a GAN``."""
    return {"autoencoder": "an autoencoder", "vae": "a VAE", "gan": "a GAN"}[kind]


def _not_for(kind: str, key: str) -> str:
    if key == "optimizer":
        return ("a GAN trains two networks with an optimizer each: set "
                "compile.generator_optimizer and compile.discriminator_optimizer")
    if key == "metrics":
        return f"{_a(kind)} logs {LOGGED[kind]}; it takes no metrics"
    return f"{_a(kind)} has one loss; loss_weights are for graph models of several outputs"


def _metrics(value: object, problems: Problems) -> None:
    if not isinstance(value, list):
        problems.add("compile.metrics", f"expected a list, like [mae]; received {value!r}")
        return
    for index, metric in enumerate(value):
        check_component(metric, key_path("compile.metrics", index), problems, what="metric")
