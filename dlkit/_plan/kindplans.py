"""The plan of an autoencoder, a variational autoencoder or a GAN: the stacks of layer parts
they are made of, and what is decided about them once (`dlkit._plan.kinds` makes these)."""

from __future__ import annotations

from dataclasses import dataclass

from dlkit._core.errors import Problem, SpecError
from dlkit._plan.parts import Part

NAMES = {"sequential": "stacks and graphs of layers", "autoencoder": "autoencoders",
         "vae": "VAEs", "gan": "GANs"}
# What a run of each kind offers instead of a tool that does not take it.
INSTEAD = {"gan": "a GAN run generates samples with dlkit.sample",
           "vae": "a VAE run scores samples with dlkit.anomaly_scores and dlkit score",
           "autoencoder": "an autoencoder run scores samples with dlkit.anomaly_scores"}


def refuse_kind(kind: str, tool: str, *, takes: tuple[str, ...]) -> None:
    """Stops a tool that does not take this kind of model, saying what to do instead.

    Raises:
        SpecError: at ``model.kind``, when `kind` is not one of `takes`.
    """
    if kind not in takes:
        takes_text = " and ".join(NAMES[k] for k in takes)
        raise SpecError(Problem("model.kind", f"{tool} is for {takes_text}"
                                f", not yet for {NAMES[kind]}; {INSTEAD[kind]}"))


@dataclass(frozen=True)
class AnomalyPlan:
    """How an autoencoder scores a sample, and how its threshold is chosen.

    Attributes:
        error: ``mse`` or ``mae``: the mean squared (absolute) difference between a sample and
            its reconstruction, over all its values: the sample's anomaly score.
        method: ``quantile`` (the threshold is the `amount` quantile of the validation
            scores) or ``mean_std`` (their mean plus `amount` standard deviations).
        amount: the quantile, or the number of standard deviations.
    """

    error: str
    method: str
    amount: float


@dataclass(frozen=True)
class AutoencoderPlan:
    """An autoencoder (``kind: autoencoder``) or a variational one (``kind: vae``).

    Attributes:
        kind: ``autoencoder`` or ``vae``.
        encoder, decoder: their layers, in order.
        code_shape: what the encoder gives per sample (a VAE: ``(latent_dim,)``, the code its
            decoder takes).
        noise: a layer put on the input in training only (a denoising autoencoder), or None.
        anomaly: how samples are scored.
        latent_dim: a VAE's code size (None for a plain autoencoder).
        heads: a VAE's ``z_mean`` and ``z_log_var`` layers, after the encoder's (else ()).
    """

    kind: str
    encoder: tuple[Part, ...]
    decoder: tuple[Part, ...]
    code_shape: tuple[int | None, ...]
    noise: Part | None
    anomaly: AnomalyPlan
    latent_dim: int | None = None
    heads: tuple[Part, ...] = ()


@dataclass(frozen=True)
class GanPlan:
    """A generative adversarial network (``kind: gan``).

    Attributes:
        latent_dim: the size of the noise vector the generator turns into a sample.
        generator, discriminator: their layers, in order.
        generator_optimizer, discriminator_optimizer: one optimizer each.
        loss: the adversarial loss, on the discriminator's logit (a name or a part).
    """

    latent_dim: int
    generator: tuple[Part, ...]
    discriminator: tuple[Part, ...]
    generator_optimizer: Part
    discriminator_optimizer: Part
    loss: str | Part
