"""The glassnet playground (faces floor): a local web page to watch a network learn and step through backpropagation.

``glassnet playground`` serves it on 127.0.0.1; everything the page needs ships in ``static/``.
"""
