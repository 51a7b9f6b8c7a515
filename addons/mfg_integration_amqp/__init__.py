from . import lib, models
