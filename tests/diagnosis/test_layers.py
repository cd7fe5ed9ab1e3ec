"""Tag grouping into layers and kinds across the naming styles people use."""

from __future__ import annotations

import pytest

from reportgen.config import ConfigError
from reportgen.diagnosis.layers import classify, group


@pytest.mark.parametrize("tag, layer, kind", [
    # TF1 name scopes (the classic question) and the TF tutorial
    ("layer1/weights", "layer1", "weights"),
    ("layer1/biases", "layer1", "bias"),
    ("layer1/layer", "layer1", "pre-activations"),
    ("layer1/activations", "layer1", "activations"),
    ("layer1/Wx_plus_b/pre_activations", "layer1", "pre-activations"),
    ("layer1/weights/summaries/histogram", "layer1", "weights"),
    # Keras callbacks, new and old
    ("sequential/dense_1/kernel/histogram", "sequential/dense_1", "weights"),
    ("sequential/dense_1/bias/histogram", "sequential/dense_1", "bias"),
    ("dense_1/kernel_0", "dense_1", "weights"),
    ("dense_1/bias_0", "dense_1", "bias"),
    ("dense_1_out", "dense_1", "activations"),
    ("dense_1/kernel_0_grad", "dense_1", "gradients"),
    # torch module names
    ("fc1.weight", "fc1", "weights"),
    ("fc1.bias", "fc1", "bias"),
    ("fc1.weight.grad", "fc1", "gradients"),
    ("fc1.weight/grad", "fc1", "gradients"),
    ("grad/fc1.weight", "fc1", "gradients"),
    ("gradients/fc1.bias", "fc1", "gradients"),
    ("activations/fc1", "fc1", "activations"),
    ("features.0.weight", "features.0", "weights"),
    ("bn1.running_mean", "bn1", "buffers"),
    ("bn1.num_batches_tracked", "bn1", "buffers"),
    ("bn1/moving_variance/histogram", "bn1", "buffers"),
    # normalisation layers: gains and shifts, not weights
    ("bn1.weight", "bn1", "norm"),
    ("bn1/gamma/histogram", "bn1", "norm"),
    ("batch_normalization/beta/histogram", "batch_normalization", "norm"),
    ("model.encoder.layer.0.attention.output.LayerNorm.weight", "model.encoder.layer.0.attention.output.LayerNorm",
     "norm"),
    ("transformer.h.0.ln_1.weight", "transformer.h.0.ln_1", "norm"),
    ("encoder.layers.1.norm2.bias", "encoder.layers.1.norm2", "norm"),
    # Lightning / Hugging Face / timm module paths, attention and recurrent parameters
    ("model.encoder.layer.0.attention.self.query.weight", "model.encoder.layer.0.attention.self.query", "weights"),
    ("encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.self_attn", "weights"),
    ("encoder.layers.0.self_attn.in_proj_bias", "encoder.layers.0.self_attn", "bias"),
    ("rnn.weight_hh_l0", "rnn", "weights"),
    ("rnn.weight_ih_l1_reverse", "rnn", "weights"),
    ("rnn.bias_hh_l0", "rnn", "bias"),
    ("blocks.3.mlp.fc1.weight", "blocks.3.mlp.fc1", "weights"),
    ("pos_embedding", "pos_embedding", "weights"),
    ("vit.embeddings.position_embeddings", "vit.embeddings", "weights"),
    # TF1's variable_summaries twice in one scope; _hist and _Distribution leaves
    ("conv1/summaries/histogram", "conv1", "weights"),
    ("conv1/summaries_1/histogram", "conv1", "bias"),
    ("layer1/biases/summaries/histogram", "layer1", "bias"),
    ("conv1_hist/weights_hist", "conv1_hist", "weights"),
    ("conv1_hist/bias_hist", "conv1_hist", "bias"),
    ("Model/Weights_Distribution", "Model", "weights"),
    ("conv2/weight_distribution", "conv2", "weights"),
    ("conv2/bias_distribution", "conv2", "bias"),
    ("conv2/relu_activation", "conv2/relu_activation", "activations"),
    # data, not a layer
    ("ray/tune/hist_stats/episode_reward", "ray/tune/hist_stats/episode_reward", "data"),
    ("ray/tune/sampler_results/hist_stats/episode_lengths", "ray/tune/sampler_results/hist_stats/episode_lengths",
     "data"),
    ("rollout/rewards", "rollout/rewards", "data"),
    ("input/images", "input/images", "data"),
    # free names
    ("Qpred", "Qpred", "outputs"),
    ("relu1", "relu1", "activations"),
    ("train/gauss", "train/gauss", "other"),
])
def test_classify_naming_styles(tag, layer, kind):
    role = classify(tag)
    assert (role.layer, role.kind) == (layer, kind)


def test_gradient_remembers_its_parameter():
    assert classify("fc1.weight.grad").gradient_of == "weights"
    assert classify("grad/fc1.bias").gradient_of == "bias"
    assert classify("dense_1/kernel_0_grad").gradient_of == "weights"


def test_group_keeps_every_tag_in_order_of_first_appearance():
    tags = ["layer1/weights", "layer1/layer", "layer1/activations", "layer2/weights", "Qpred", "mystery"]
    layers = group(tags)
    assert [layer.name for layer in layers] == ["layer1", "layer2", "Qpred", "mystery"]
    assert sorted(t for layer in layers for t in layer.tags) == sorted(tags)


def test_override_maps_tags_by_regex_with_groups():
    layers = group(["block3_conv_w", "block3_conv_b", "loose"],
                   [{"pattern": r"^block(\d+)_conv_w$", "layer": r"block\1", "kind": "weights"},
                    {"pattern": r"^block(\d+)_conv_b$", "layer": r"block\1", "kind": "bias"}])
    assert layers[0].name == "block3"
    assert layers[0].tags == {"block3_conv_w": "weights", "block3_conv_b": "bias"}
    assert layers[1].name == "loose"


def test_override_with_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError):
        group(["x"], [{"pattern": "x", "layer": "x", "kind": "weightz"}])
