"""`model.kind`: autoencoder, vae and gan specs validated (every problem at once, with paths),
planned and built into plain Keras objects; no training here (tests/test_autoencoder.py and
tests/test_gan.py train them)."""

import copy

import keras
import numpy as np
import pytest

import dlkit
from conftest import EXAMPLES, cli
from dlkit._spec.spec import plan_of

AUTOENCODER = {
    "name": "tiny-ae", "seed": 1, "data": {"source": "digits"},
    "model": {"kind": "autoencoder", "input_shape": [64],
              "encoder": [{"type": "Dense", "units": 16, "activation": "relu"},
                          {"type": "Dense", "units": 4}],
              "decoder": [{"type": "Dense", "units": 16, "activation": "relu"},
                          {"type": "Dense", "units": 64, "activation": "sigmoid"}]},
    "train": {"epochs": 2},
}
GAN = {
    "name": "tiny-gan", "seed": 1,
    "model": {"kind": "gan", "input_shape": [2], "latent_dim": 3,
              "generator": [{"type": "Dense", "units": 8, "activation": "relu"},
                            {"type": "Dense", "units": 2}],
              "discriminator": [{"type": "Dense", "units": 8, "activation": "relu"},
                                {"type": "Dense", "units": 1}]},
}


def spec_with(base, **model):
    spec = copy.deepcopy(base)
    spec["model"].update(model)
    return spec


def problems(spec):
    with pytest.raises(dlkit.SpecError) as caught:
        dlkit.load_spec(spec)
    return [(p.path, p.message) for p in caught.value.errors]


def test_an_autoencoder_needs_no_compile_section_and_round_trips():
    spec = dlkit.load_spec(AUTOENCODER)
    resolved = spec.to_dict()
    assert resolved["compile"] == {"optimizer": "adam", "loss": "mse", "metrics": []}
    assert resolved["model"]["anomaly"] == {"error": "mse", "method": "quantile",
                                            "quantile": 0.99}
    assert dlkit.load_spec(resolved) == spec
    plan = plan_of(spec)
    assert plan.model.kind == "autoencoder" and not plan.model.supervised
    assert plan.model.autoencoder.code_shape == (4,)
    assert plan.model.parameters == (64 * 16 + 16) + (16 * 4 + 4) + (4 * 16 + 16) + (16 * 64 + 64)


def test_a_gan_has_two_optimizers_and_watches_val_mmd_by_default():
    spec = dlkit.load_spec({**GAN, "callbacks": {"early_stopping": {"patience": 3},
                                                 "checkpoint": {"monitor": "val_g_loss"}}})
    resolved = spec.to_dict()["compile"]
    assert resolved["generator_optimizer"] == resolved["discriminator_optimizer"] == {
        "type": "Adam", "learning_rate": 2.0e-4, "beta_1": 0.5}
    assert resolved["loss"] == {"type": "BinaryCrossentropy", "from_logits": True}
    plan = plan_of(spec)
    assert plan.callbacks["early_stopping"]["monitor"] == "val_mmd"
    assert plan.callbacks["checkpoint"]["monitor"] == "val_g_loss"  # what the spec says stays
    assert plan.compile.losses == ("d_loss", "g_loss") and plan.compile.metric_names == ("mmd",)


def test_every_problem_of_a_gan_at_once_in_spec_order():
    found = problems(spec_with(GAN, latent_dim=0, generator=[
        {"type": "Dense", "units": 8, "activation": "rleu"}, {"type": "Dense", "units": 2}])
        | {"compile": {"optimizer": "adam", "metrics": ["mae"], "generator_optimizer": "adamm"}})
    assert [path for path, _ in found] == [
        "model.latent_dim", "model.generator[0].activation", "compile.optimizer",
        "compile.metrics", "compile.generator_optimizer"]
    messages = dict(found)
    assert "did you mean 'relu'" in messages["model.generator[0].activation"]
    assert "compile.generator_optimizer and compile.discriminator_optimizer" in \
        messages["compile.optimizer"]


def test_the_generator_must_fit_the_discriminator_and_both_are_named():
    found = dict(problems(spec_with(GAN, generator=[{"type": "Dense", "units": 3}],
                                    discriminator=[{"type": "Dense", "units": 2}])))
    assert "gives samples of shape [3], which do not fit the discriminator" in \
        found["model.generator"] and "[2] (model.input_shape)" in found["model.generator"]
    assert "ends in one unit per sample" in found["model.discriminator"]


def test_the_discriminators_last_activation_must_suit_the_loss():
    sigmoid = [{"type": "Dense", "units": 1, "activation": "sigmoid"}]
    assert problems(spec_with(GAN, discriminator=sigmoid))[0][0] == \
        "model.discriminator[0].activation"
    probabilities = {**spec_with(GAN, discriminator=sigmoid),
                     "compile": {"loss": "binary_crossentropy"}}
    assert plan_of(dlkit.load_spec(probabilities)).model.gan is not None
    assert "not a sigmoid" in problems({**GAN, "compile": {"loss": "binary_crossentropy"}})[0][1]


def test_the_decoder_must_give_back_the_inputs_shape():
    found = problems(spec_with(AUTOENCODER, input_shape=[8, 8, 1], encoder=[
        {"type": "Flatten"}, {"type": "Dense", "units": 4}]))
    assert found == [("model.decoder", "the decoder gives samples of shape [64], but an "
                      "autoencoder reconstructs its input, of shape [8, 8, 1] "
                      "(model.input_shape); end the decoder with a layer that gives [8, 8, 1] "
                      "(the same 64 values: a Reshape to [8, 8, 1] would do)")]
    shape = problems(spec_with(AUTOENCODER, encoder=[{"type": "Conv2D", "filters": 2,
                                                      "kernel_size": 3}]))
    assert shape[0][0] == "model.encoder[0]" and "cannot take its input" in shape[0][1]


def test_kind_and_anomaly_mistakes_are_named():
    assert problems(spec_with(AUTOENCODER, kind="autoencodr")) == [
        ("model.kind", "unknown model kind 'autoencodr' (did you mean 'autoencoder'?); "
                       "expected one of: sequential, autoencoder, vae, gan")]
    found = dict(problems(spec_with(
        AUTOENCODER, layers=[], encoder={"inputs": {}, "graph": [], "outputs": "a"},
        anomaly={"error": "mes", "quantile": 1.5, "std": 2})))
    assert "encoder and decoder stacks instead of layers" in found["model.layers"]
    assert "graphs (inputs, graph, outputs) are not supported" in found["model.encoder"]
    assert "did you mean 'mse'" in found["model.anomaly.error"]
    assert "between 0 and 1" in found["model.anomaly.quantile"]
    assert "a setting of method mean_std" in found["model.anomaly.std"]
    spec = dlkit.load_spec(spec_with(AUTOENCODER, anomaly={"method": "mean_std"}))
    assert plan_of(spec).model.autoencoder.anomaly.amount == 3.0


def test_build_gives_plain_keras_models_with_named_networks(tmp_path):
    autoencoder = dlkit.build(spec_with(AUTOENCODER, noise={"type": "GaussianNoise",
                                                            "stddev": 0.3}))
    assert [layer.name for layer in autoencoder.layers][-2:] == ["encoder", "decoder"]
    x = np.random.default_rng(0).random((5, 64)).astype("float32")
    encoder, decoder = autoencoder.get_layer("encoder"), autoencoder.get_layer("decoder")
    # The noise acts in training only: in inference the model is decoder(encoder(x)).
    np.testing.assert_allclose(autoencoder(x), decoder(encoder(x)), rtol=1e-6)
    assert not np.allclose(autoencoder(x, training=True), decoder(encoder(x)))

    gan = dlkit.build(GAN)
    assert gan.generator.output_shape == (None, 2) and gan.discriminator.output_shape == (None, 1)
    assert isinstance(gan.generator_optimizer, keras.optimizers.Adam)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    assert type(loaded).__name__ == "GAN" and loaded.latent_dim == 3
    assert isinstance(loaded.discriminator_optimizer, keras.optimizers.Adam)  # compiled again
    z = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded(z), gan(z))


def test_stacks_under_mixed_precision_keep_their_outputs_float32():
    plan = plan_of(dlkit.load_spec({**GAN, "runtime": {"precision": "mixed_bfloat16"}}))
    for stack in (plan.model.gan.generator, plan.model.gan.discriminator):
        assert stack[0].args["dtype"] == "mixed_bfloat16" and "dtype" not in stack[-1].args


def test_validate_summarises_each_network(tmp_path):
    spec = tmp_path / "gan.yaml"
    spec.write_text((EXAMPLES / "moons_gan.yaml").read_text())
    result = cli("validate", str(spec), "--set", "model.latent_dim=4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "ok: moons-gan: gan: generator 3 layers (4,610 parameters), discriminator 3 layers "
        "(4,417 parameters), 9,027 parameters in all, loss BinaryCrossentropy, optimizers Adam "
        "(generator), Adam (discriminator)")


def test_diagnose_refuses_other_kinds_with_what_to_do():
    with pytest.raises(dlkit.SpecError, match="dlkit diagnose is for stacks and graphs of "
                       "layers, not yet for autoencoders"):
        dlkit.diagnose(AUTOENCODER, histograms=False)
