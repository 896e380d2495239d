"""The lessons' engines: the numbers a slide would print, computed with the engine's own parts.

expression.py  safe expression parser + reverse-mode autodiff (the backprop lesson's computation graphs)
backprop.py    one forward / backward / SGD step of a small dense network, layer by layer
"""
