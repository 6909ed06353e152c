"""glassnet: feedforward neural networks trained by backpropagation, with every number in view."""
from .activations import ACTIVATIONS, Activation, get_activation
from .costs import COSTS, Cost, get_cost
from .errors import (ConfigError, DataError, GlassnetError, LabelError, ModelFileError, NonFiniteError,
                     NotFittedError, ShapeError, TrainingDivergedError, UnknownNameError)
from .gradcheck import gradient_check, relative_error
from .initializers import INITIALIZERS, get_initializer
from .layers import Dense
from .modelfile import Model, save
from .modelfile import load_model as load
from .network import Network
from .optimizers import OPTIMIZERS, SGD, Adam, AdamW, Momentum, Nesterov, Optimizer, get_optimizer
from .schedules import SCHEDULES, get_schedule
from .callbacks import Callback, EarlyStopping, History, TargetReached
from .params import ParameterStore, Workspace
from .run import fit
from .trace import StepTrace, trace
from .training import Trainer
from ._version import __version__

__all__ = [
    "ACTIVATIONS", "COSTS", "INITIALIZERS", "OPTIMIZERS", "SCHEDULES",
    "Activation", "Cost", "Dense", "Network", "Optimizer", "SGD", "Momentum", "Nesterov", "Adam", "AdamW",
    "Callback", "EarlyStopping", "History", "TargetReached", "Trainer", "fit", "trace", "StepTrace",
    "ParameterStore", "Workspace",
    "get_activation", "get_cost", "get_initializer", "get_optimizer", "get_schedule",
    "gradient_check", "relative_error", "Model", "save", "load",
    "GlassnetError", "ConfigError", "UnknownNameError", "DataError", "ShapeError", "LabelError",
    "NonFiniteError", "TrainingDivergedError", "NotFittedError", "ModelFileError",
    "__version__",
]
