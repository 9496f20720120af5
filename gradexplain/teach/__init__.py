"""The teaching: the story, the sum rule, the steps, the matrix form and the graph."""
