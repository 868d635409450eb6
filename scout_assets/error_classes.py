"""What a failure means for the pipeline, as classes the raising code chooses (see
``errors.py`` for how each class is retried, or not). Dagster-free, so the parts of `scout`
that answer before importing Dagster can raise them too."""

TRANSIENT = "transient"
DATA = "data"
CRITICAL = "critical"
UNEXPECTED = "unexpected"
OPERATOR = "operator"


class ScoutError(Exception):
    """An error whose class the code raising it already knows."""

    error_class = UNEXPECTED


class TransientError(ScoutError):
    """Worth retrying: a lock, an I/O hiccup, a network or ODBC timeout."""

    error_class = TRANSIENT


class DataError(ScoutError):
    """The input is wrong: retrying the same input cannot help."""

    error_class = DATA


class OperatorError(ScoutError):
    """What an operator asked for cannot be done as asked (an unknown batch id, no reason):
    the run fails saying why, and the operator who launched it reads that there. No alert:
    nothing is wrong with the pipeline."""

    error_class = OPERATOR


class CriticalError(ScoutError):
    """The pipeline cannot work until someone acts (schema, warehouse, credentials)."""

    error_class = CRITICAL
