"""dlkit's own keys, section by section: a one-line description, the JSON Schema of the value
and the default, next to the pass-1 key tuple each section takes its keys from
(`dlkit._schema.sections`).

Only dlkit's keys live here. What a Keras layer, optimizer or callback takes comes from Keras
itself (`dlkit._schema.arguments`), and names from the resolver (`dlkit._plan.catalogue`).
``tests/test_schema_drift.py`` fails when pass 1 accepts a key that is not described here, when
a key described here is not accepted, or when a default differs from the one pass 1 fills in.
"""

from __future__ import annotations

from dlkit._schema.forms import (COUNT, NODE_INPUTS, SECONDS, SEED, SHAPE, STACK, Key,
                                Section, integer, name_pattern, or_null, ref, union)
from dlkit._spec.sections.base import (APPLICATION_KEYS, FINE_TUNE_DEFAULTS, FINE_TUNE_KEYS,
                                       POOLINGS, SAVED_KEYS)
from dlkit._spec.sections.callbacks import CALLBACK_DEFAULTS, CALLBACK_KEYS
from dlkit._spec.sections.compile import COMPILE_KEYS
from dlkit._spec.sections.data import BAD_FILES, DATA_KEYS, DATA_SOURCES
from dlkit._spec.sections.graph import BLOCK_KEYS, BLOCK_NODE_KEYS, NETWORK_KEYS, RESERVED_OUTPUTS
from dlkit._spec.sections.kinds import COMPILE_KEYS as KIND_COMPILE_KEYS
from dlkit._spec.sections.kinds import ERRORS, GAN_OPTIMIZER, KINDS, METHODS
from dlkit._spec.sections.kinds import MODEL_KEYS as KIND_MODEL_KEYS
from dlkit._spec.sections.model import MODEL_KEYS
from dlkit._spec.sections.runtime import PEER_TIMEOUT, PRECISIONS, RUNTIME_KEYS, STRATEGIES
from dlkit._spec.sections.search import (ALGORITHMS, DEFAULT_TRIALS, DIRECTIONS, SEARCH_KEYS,
                                         WORKER_TIMEOUT)
from dlkit._spec.sections.train import TRAIN_KEYS
from dlkit._spec.spaces import KEYS as SPACE_KEYS
from dlkit._spec.spaces import KINDS as SPACE_KINDS
from dlkit._spec.spaces import SPACE_KEY
from dlkit._spec.structure import NAME_PATTERN, TOP_KEYS

TOP = Section("A dlkit spec: a network, how to train it, and where its data comes from.", {
    "name": Key("The run name (1-100 letters, digits, '.', '_' or '-'); runs go to "
                "logs/<name>/. Default: the spec file's name.",
                {"type": "string", "pattern": NAME_PATTERN.pattern}),
    "seed": Key("Seeds Python, NumPy and TensorFlow; null for no seed.", SEED, None),
    "deterministic": Key("true: op determinism, bitwise-repeatable runs on a CPU (with seed).",
                         {"type": "boolean"}, False),
    "data": Key("Where dlkit.train and `dlkit train` get data; dlkit.build ignores it.",
                or_null(ref("section.data")), None),
    "model": Key("The network: a stack (input_shape, layers) or a graph (inputs, graph, "
                 "outputs).", ref("section.model")),
    "compile": Key("Optimizer, loss and metrics, as model.compile takes them.",
                   ref("section.compile")),
    "train": Key("Epochs, batch size and shuffling.", ref("section.train"), {}),
    "callbacks": Key("Each callback off (false), on (true or {}), or its settings.",
                     ref("section.callbacks"), {}),
    "runtime": Key("Where and how fast training runs.", ref("section.runtime"), {}),
    "search": Key("How `dlkit search` tries the values of the spec's search spaces.",
                  ref("section.search")),
}, TOP_KEYS, required=("model",))

DATA = Section("The training data.", {
    "source": Key("A bundled dataset (" + ", ".join(DATA_SOURCES[:4]) + "), a file or folder "
                  "(npz, csv, images, text), keras:<dataset> or tfds:<dataset> (downloads).",
                  ref("data_source")),
    "path": Key("The .npz or .csv file, or the folder of class sub-folders (images, text).",
                {"type": "string"}),
    "target": Key("csv: the column to predict.", {"type": "string"}),
    "validation_split": Key("The fraction held out for validation (null: none; npz x_val "
                            "and y_val arrays win).", or_null(
                                {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
                            0.2),
    "samples": Key("moons, spirals, sine: how many samples to make.", integer(1, 10**7)),
    "noise": Key("moons, spirals, sine: the noise added.", {"type": "number", "minimum": 0}),
    "categorical": Key("csv: columns to one-hot encode even when they hold numbers.",
                       {"type": "array", "items": {"type": "string"}}),
    "bad_files": Key("images, text: a file that cannot be read stops before training "
                     "(stop) or is left out with a warning (skip).", {"enum": list(BAD_FILES)},
                     "stop"),
}, DATA_KEYS, required=("source",))

MODEL = Section("The network: a stack of layers, a graph of named inputs, nodes and outputs, "
                "or an autoencoder, VAE or GAN (kind).", {
    "kind": Key("sequential (a stack or a graph trained on labels), autoencoder, vae "
                "(variational autoencoder) or gan; the last three learn from unlabeled data.",
                {"enum": list(KINDS)}, "sequential"),
    "input_shape": Key("A stack's input shape, without the batch dimension.", SHAPE),
    "layers": Key("A stack's layers in order, each {type: <Keras layer>, **its arguments}.",
                  {"type": "array", "minItems": 1, "items": ref("stack_layer")}),
    "inputs": Key("A graph's inputs: name -> shape.",
                  {"type": "object", "minProperties": 1,
                   "propertyNames": name_pattern("input"), "additionalProperties": SHAPE}),
    "graph": Key("A graph's nodes in order: layers {name, type, inputs, ...} or block "
                 "instances {name, block, inputs, with}.",
                 {"type": "array", "minItems": 1, "items": ref("node")}),
    "outputs": Key("A graph's output: one node's name, or output name -> node name.",
                   {"anyOf": [{"type": "string"}, {
                       "type": "object", "minProperties": 1,
                       "propertyNames": {**name_pattern("output"),
                                         "not": {"enum": list(RESERVED_OUTPUTS)}},
                       "additionalProperties": {"type": "string"}}]}),
    "blocks": Key("Named sub-graphs with parameters, placed by graph nodes {block: name}.",
                  {"type": "object", "propertyNames": name_pattern("block"),
                   "additionalProperties": ref("section.block")}),
    "regularization": Key("A default penalty for every kernel without its own, like "
                          "{l2: 1.0e-4} or {type: L1L2, l1: 1.0e-5, l2: 1.0e-4}.",
                          or_null({"anyOf": [ref("default_penalty"), ref("regularizer.form")]}),
                          None),
    "base": Key("A pretrained start of the network, before the layers (or graph) that are "
                "its head: a keras.applications model {application, weights, pooling, "
                "trainable, ...its arguments} or a saved model {path, until, trainable}.",
                {"if": {"required": ["path"]}, "then": ref("section.saved_base"),
                 "else": ref("section.application_base")}),
    "encoder": Key("autoencoder, vae: the layers (or a graph) that squeeze a sample into its "
                   "code.", STACK),
    "decoder": Key("autoencoder, vae: the layers (or a graph) that give the sample back from "
                   "its code (its output has input_shape).", STACK),
    "generator": Key("gan: the layers (or a graph) that turn latent_dim random numbers into a "
                     "sample.", STACK),
    "discriminator": Key("gan: the layers (or a graph) that tell real samples from generated "
                         "ones (one logit).", STACK),
    "latent_dim": Key("vae: the size of the code; gan: the size of the generator's input.",
                      integer(1, 10**5)),
    "noise": Key("autoencoder, vae: a noise layer on the input in training (a denoising "
                 "autoencoder), like {type: GaussianNoise, stddev: 0.1}.",
                 or_null(ref("nested_layer")), None),
    "anomaly": Key("autoencoder, vae: how a sample's anomaly score is measured and where the "
                   "threshold lies.", ref("section.anomaly"), {}),
}, union(MODEL_KEYS, *KIND_MODEL_KEYS.values()))

ANOMALY = Section("A sample's anomaly score (its reconstruction error) and the threshold, "
                  "chosen on the validation data's scores.", {
    "error": Key("mse or mae: a sample's mean squared or absolute reconstruction error.",
                 {"enum": list(ERRORS)}, "mse"),
    "method": Key("quantile (the threshold is that quantile of the validation scores) or "
                  "mean_std (their mean plus std standard deviations).",
                  {"enum": list(METHODS)}, "quantile"),
    "quantile": Key("method quantile: the quantile, between 0 and 1.",
                    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                    METHODS["quantile"][1]),
    "std": Key("method mean_std: standard deviations above the mean.",
               {"type": "number", "exclusiveMinimum": 0}, METHODS["mean_std"][1]),
}, ("error", "method", *(setting for setting, _ in METHODS.values())))

DEFAULT_PENALTY = Section("The strengths of the penalty on every kernel without its own.", {
    "l1": Key("L1 strength.", {"type": "number", "minimum": 0}),
    "l2": Key("L2 strength.", {"type": "number", "minimum": 0}),
}, None)

BLOCK = Section("A sub-graph written once and placed by graph nodes {name, block, inputs}.", {
    "inputs": Key("The block's own input names, which its nodes take.",
                  {"type": "array", "minItems": 1, "items": name_pattern("input")}),
    "params": Key("Parameters and their defaults; a node value $name uses one.",
                  {"type": "object", "propertyNames": name_pattern("parameter")}, {}),
    "graph": Key("The block's nodes in order, like a graph's.",
                 {"type": "array", "minItems": 1, "items": ref("node")}),
    "output": Key("The node whose result the block gives. Default: its last node.",
                  {"type": "string"}),
}, BLOCK_KEYS, required=("inputs", "graph"))

NETWORK = Section("An autoencoder's, VAE's or GAN's network written as a graph: one input name, "
                  "which takes the network's input, and nodes as in model.graph.", {
    "inputs": Key("One name, which takes the network's input (a sample, a code or the noise).",
                  {"type": "array", "minItems": 1, "maxItems": 1,
                   "items": name_pattern("input")}),
    "graph": Key("The network's nodes in order, like a graph's.",
                 {"type": "array", "minItems": 1, "items": ref("node")}),
    "output": Key("The node whose result the network gives. Default: its last node.",
                  {"type": "string"}),
}, NETWORK_KEYS, required=("inputs", "graph"))

BLOCK_NODE = Section("A block instance: the block's nodes placed here, named <name>.<node>.", {
    "name": Key("The instance's name; its output node takes it.", name_pattern("node")),
    "inputs": Key("What the block's inputs take, in order: graph inputs or earlier nodes.",
                  NODE_INPUTS),
    "block": Key("The name of a block in model.blocks.", {"type": "string"}),
    "with": Key("Values for the block's parameters.", {"type": "object"}, {}),
}, BLOCK_NODE_KEYS, required=("name", "inputs", "block"))

LAYER_NODE = Section("A graph node that is a layer: its Keras layer name, what it takes, and "
                     "the layer's arguments.", {
    "name": Key("The node's name, which later nodes and outputs use; its Keras layer name.",
                name_pattern("node")),
    "inputs": Key("The graph inputs or earlier nodes this node takes: one name or a list.",
                  NODE_INPUTS),
}, None, required=("name", "inputs"))

COMPILE = Section("How the model is compiled.", {
    "optimizer": Key("An optimizer: a name (adam) or {type: Adam, learning_rate: ...}.",
                     ref("optimizer"), "adam"),
    "loss": Key("A loss: a name (mse) or {type: Huber, ...}; or output name -> loss.",
                {"anyOf": [ref("loss"), ref("per_output_loss")]}),
    "metrics": Key("Metrics to log: a list; or output name -> list.",
                   {"anyOf": [{"type": "array", "items": ref("metric")},
                              {"type": "object", "not": {"required": ["type"]},
                               "additionalProperties": {"type": "array",
                                                        "items": ref("metric")}}]}, []),
    "loss_weights": Key("Output name -> the weight of its loss (an output left out weighs 1).",
                        or_null({"type": "object", "additionalProperties": {
                            "type": "number", "minimum": 0}})),
    "generator_optimizer": Key("gan: the generator's optimizer.", ref("optimizer"),
                               GAN_OPTIMIZER),
    "discriminator_optimizer": Key("gan: the discriminator's optimizer.", ref("optimizer"),
                                   GAN_OPTIMIZER),
}, union(COMPILE_KEYS, *KIND_COMPILE_KEYS.values()))

TRAIN = Section("How long and on what batches to train.", {
    "epochs": Key("Passes over the training data.", integer(1, 10**6), 10),
    "batch_size": Key("Samples per step: an integer (1: stochastic gradient descent) or full "
                      "(batch gradient descent).",
                      {"anyOf": [integer(1, 10**8), {"const": "full"}]}, 32),
    "shuffle": Key("Shuffle the training data every epoch.", {"type": "boolean"}, True),
    "fine_tune": Key("A second phase after the first: unfreeze model.base (all of it, its top "
                     "N layers or from a named layer) and train on at a small learning rate.",
                     ref("section.fine_tune")),
}, TRAIN_KEYS)

BASE_COMMON = {
    "trainable": Key("false: the base is frozen (until train.fine_tune unfreezes it); its "
                     "BatchNormalization layers stay in inference mode either way.",
                     {"type": "boolean"}, True),
    "inputs": Key("A graph model: the model input the base takes (needed when there are "
                  "several).", {"type": "string"}),
    "cache": Key("While the base is frozen, compute its outputs once and train the head on "
                 "them, when that is exactly the same training (data in memory, nothing "
                 "random in the base, one device, not deterministic); false: never.",
                 {"type": "boolean"}, True),
}
APPLICATION_BASE = Section("A keras.applications model without its classifier, its own input "
                           "preprocessing in front (feed raw pixels); other keys are the "
                           "application's own arguments (alpha, ...).", {
    "application": Key("The keras.applications model, like MobileNetV2.", {"type": "string"}),
    "weights": Key("imagenet (downloaded once into Keras' cache), null (random weights) or "
                   "the path of a weights file.", or_null({"type": "string", "minLength": 1}),
                   "imagenet"),
    "pooling": Key("avg or max: pool the last feature map into a vector; null: keep it.",
                   {"enum": list(POOLINGS)}, None),
    **BASE_COMMON,
}, APPLICATION_KEYS, required=("application",))

SAVED_BASE = Section("A saved .keras model (loaded in safe mode), cut at the output of layer "
                     "until.", {
    "path": Key("The saved .keras model.", {"type": "string", "minLength": 1}),
    "until": Key("The layer whose output ends the base. Default: the model's output.",
                 or_null({"type": "string", "minLength": 1}), None),
    **BASE_COMMON,
}, SAVED_KEYS, required=("path",))

FINE_TUNE = Section("The fine-tuning phase: which layers of the base train, at what rate, "
                    "for how many more epochs.", {
    "unfreeze": Key("all, a number N (the top N layers of the base) or {from: <layer>} (that "
                    "layer and those above it).",
                    {"anyOf": [{"const": "all"}, integer(1),
                               {"type": "object", "required": ["from"],
                                "properties": {"from": {"type": "string"}},
                                "additionalProperties": False}]},
                    FINE_TUNE_DEFAULTS["unfreeze"]),
    "learning_rate": Key("The optimizer's learning rate in this phase (small, like 1.0e-5).",
                         {"type": "number", "exclusiveMinimum": 0},
                         FINE_TUNE_DEFAULTS["learning_rate"]),
    "epochs": Key("Epochs of fine-tuning, after train.epochs.", integer(1, 10**6),
                  FINE_TUNE_DEFAULTS["epochs"]),
}, FINE_TUNE_KEYS)

def callback(key: str, description: str) -> Key:
    """A callback's key: its settings come from its class (`dlkit._schema.components`)."""
    return Key(description, ref(f"callback.{key}"), CALLBACK_DEFAULTS[key])


CALLBACKS = Section("Callbacks: each is false (off), true or {} (on), or its settings.", {
    "early_stopping": callback("early_stopping", "Stop when the monitored metric stops "
                               "improving (keras.callbacks.EarlyStopping; restores the best "
                               "weights)."),
    "tensorboard": callback("tensorboard", "TensorBoard logs under the run directory: scalars, "
                            "hparams, images."),
    "checkpoint": callback("checkpoint", "Save the model to checkpoints/ "
                           "(keras.callbacks.ModelCheckpoint)."),
    "reduce_lr_on_plateau": callback("reduce_lr_on_plateau", "Lower the learning rate when the "
                                     "metric stalls (keras.callbacks.ReduceLROnPlateau)."),
    "csv_logger": callback("csv_logger", "Write history.csv (keras.callbacks.CSVLogger)."),
    "terminate_on_nan": callback("terminate_on_nan", "Stop at the first NaN or Inf loss, "
                                 "keeping the last good backup."),
    "backup": callback("backup", "Back up the training state for --resume "
                       "(keras.callbacks.BackupAndRestore)."),
    "overfitting": callback("overfitting", "Say when validation loss rises while training "
                            "loss falls."),
}, CALLBACK_KEYS)

RUNTIME = Section("Where and how fast training runs.", {
    "strategy": Key("The tf.distribute strategy; auto: a TPU, several GPUs, one GPU or the CPU.",
                    {"enum": list(STRATEGIES)}, "auto"),
    "precision": Key("The dtype policy; auto: mixed_bfloat16 on TPUs and AMX CPUs, "
                     "mixed_float16 on recent GPUs, else float32.", {"enum": list(PRECISIONS)},
                     "auto"),
    "steps_per_execution": Key("Batches per call into TensorFlow; auto: several for small "
                               "models.", {"anyOf": [{"const": "auto"}, integer(1, 10**6)]},
                               "auto"),
    "peer_timeout": Key("multi_worker: seconds to wait for the other workers.", SECONDS,
                        PEER_TIMEOUT),
}, RUNTIME_KEYS)

SEARCH = Section("How `dlkit search` tries the spaces' values (KerasTuner's oracles).", {
    "algorithm": Key("grid (every combination), random, bayesian (a Gaussian process) or "
                     "hyperband.", {"enum": list(ALGORITHMS)}, "random"),
    "max_trials": Key("Trials to run (grid: the whole grid when null); not for hyperband.",
                      or_null(COUNT), DEFAULT_TRIALS),
    "objective": Key("A metric the trials log (its direction inferred), or {name, "
                     "direction}.", {"anyOf": [{"type": "string", "minLength": 1},
                                               ref("section.objective")]}, "val_loss"),
    "seed": Key("The oracle's seed. Default: the spec's seed.", SEED, None),
    "executions_per_trial": Key("Trainings per trial (new seeds); the score is their mean.",
                                COUNT, 1),
    "max_epochs": Key("hyperband: epochs of its longest trials. Default: train.epochs.",
                      or_null(COUNT), None),
    "factor": Key("hyperband: the reduction factor between its rounds.", integer(2, 10**6), 3),
    "worker_timeout": Key("Seconds a distributed search waits for word from a worker.",
                          SECONDS, WORKER_TIMEOUT),
}, SEARCH_KEYS)

OBJECTIVE = Section("The metric a search optimizes, and which way.", {
    "name": Key("A metric the trials log, like val_accuracy.", {"type": "string",
                                                                "minLength": 1}),
    "direction": Key("min or max. Default: inferred from the name.",
                     or_null({"enum": list(DIRECTIONS)})),
}, None, required=("name",))

SPACE = Section("A search space: `dlkit search` tries values from it.", {
    SPACE_KEY: Key("The kind of space: " + ", ".join(SPACE_KINDS) + ".",
                   {"enum": list(SPACE_KINDS)}),
    "min": Key("The smallest value.", {"type": "number"}),
    "max": Key("The largest value (above min).", {"type": "number"}),
    "step": Key("The step between values; with log: true, the factor between them (above 1).",
                {"type": "number", "exclusiveMinimum": 0}),
    "log": Key("Sample on a log scale (min above 0).", {"type": "boolean"}, False),
    "values": Key("The values to choose from: at least two, none listed twice.",
                  {"type": "array", "minItems": 2}),
}, (SPACE_KEY, *dict.fromkeys(k for keys in SPACE_KEYS.values() for k in keys)))

# Where each section is in a spec, as the drift test walks the schema and pass 1.
SECTIONS: dict[str, Section] = {
    "": TOP, "data": DATA, "model": MODEL, "model.regularization": DEFAULT_PENALTY,
    "model.anomaly": ANOMALY, "model.base (application)": APPLICATION_BASE,
    "model.base (saved)": SAVED_BASE, "train.fine_tune": FINE_TUNE,
    "model.blocks.<block>": BLOCK, "model.<network>": NETWORK,
    "model.graph[<block instance>]": BLOCK_NODE,
    "model.graph[<layer>]": LAYER_NODE, "compile": COMPILE, "train": TRAIN,
    "callbacks": CALLBACKS, "runtime": RUNTIME, "search": SEARCH, "search.objective": OBJECTIVE,
    "<search space>": SPACE,
}
# The definition in the schema's $defs that holds each section.
DEFINITIONS = {"": None, "data": "section.data", "model": "section.model",
               "model.regularization": "default_penalty", "model.anomaly": "section.anomaly",
               "model.base (application)": "section.application_base",
               "model.base (saved)": "section.saved_base", "train.fine_tune": "section.fine_tune",
               "model.blocks.<block>":
               "section.block", "model.<network>": "section.network",
               "model.graph[<block instance>]": "block_instance",
               "model.graph[<layer>]": "layer_node", "compile": "section.compile",
               "train": "section.train", "callbacks": "section.callbacks",
               "runtime": "section.runtime", "search": "section.search",
               "search.objective": "section.objective", "<search space>": "search_space"}

# What each kind of component is, for its definition's description.
COMPONENT_DOCS = {
    "activation": "An activation: a name (relu) or an activation layer {type: LeakyReLU, ...}.",
    "initializer": "An initializer: a name (he_normal) or {type: HeNormal, seed: 1}.",
    "regularizer": "A penalty with its strength, like {type: L2, l2: 1.0e-4}.",
    "constraint": "A weight constraint: a name (non_neg) or {type: MaxNorm, max_value: 2}.",
    "loss": "A loss: a name (mse) or {type: Huber, delta: 1.0}.",
    "metric": "A metric: a name (accuracy) or {type: AUC, ...}.",
    "optimizer": "An optimizer: a name (adam) or {type: SGD, momentum: 0.9, learning_rate: "
                 "<a number or a schedule>}.",
    "schedule": "A learning-rate schedule, like {type: ExponentialDecay, initial_learning_rate: "
                "0.1, decay_steps: 100, decay_rate: 0.9}.",
    "layer": "A Keras layer: {type: <a keras.layers class, or one registered with "
             "keras.saving.register_keras_serializable>, **its arguments}.",
}
