"""The program: the expression read into our own tree, its values, shapes and letters."""
