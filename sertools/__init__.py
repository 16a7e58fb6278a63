"""sertools: the speech emotion recognition toolkit behind the book.

Every chapter of the book calls these modules, and the ``sertools`` command
line uses the same functions:

- :mod:`sertools.audio` - loading and saving audio (chapter "Signal processing")
- :mod:`sertools.preprocess` - pre-emphasis, filters, denoising, framing
- :mod:`sertools.synth` - the synthetic emotional-speech corpus (chapter "Speech and emotion: the data")
- :mod:`sertools.datasets` - manifests, real-corpus parsers and downloads
- :mod:`sertools.features` - MFCC and friends, from first principles (chapter "MFCC")
- :mod:`sertools.nn` - a neural network in numpy (chapter "A neural network from scratch")
- :mod:`sertools.models`, :mod:`sertools.training`, :mod:`sertools.bundle` - Keras models,
  leak-free training and the saved model artifact
- :mod:`sertools.evaluation` - UAR, F1, confusion, confidence intervals, significance
- :mod:`sertools.stream` - sliding-window, real-time use
"""

from sertools.errors import AudioError, BundleError, DataError, SertoolsError

__version__ = "0.1.0"

__all__ = ["AudioError", "BundleError", "DataError", "SertoolsError", "__version__"]
