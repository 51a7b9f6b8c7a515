from . import test_quality_loop
