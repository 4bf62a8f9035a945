"""DataModules, batch formats, samplers and conversions.

Import DataModules from their modules (``datamodules.named_datamodule.NamedDataModule``): this package
imports nothing so that ``core.batch_formats`` stays importable from ``lightning_modules`` without
cycles.
"""
