"""albert_tf: ship compressed ALBERT text models."""
__version__ = "0.1.0"
