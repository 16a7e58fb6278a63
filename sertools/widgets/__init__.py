"""Interactive explorers used in the book.

The logic is pure functions (parameters in, arrays and figures out) that tests
call directly; the ipywidgets wiring is a thin layer over them.

- :mod:`sertools.widgets.filters` - the filter explorer (chapter "Signal processing")
- :mod:`sertools.widgets.mfcc` - the MFCC explorer (chapter "MFCC")
"""
