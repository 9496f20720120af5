"""The two witnesses (SymPy and autograd) and the checks between them."""
