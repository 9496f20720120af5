"""Every entry's name, family and spellings, and how the parser reads a call of it, so
the parser reads a call without importing its family. Generated from the entries by
scripts/update_ops_index.py; tests/test_ops_index.py fails when it differs from them.
Do not edit by hand."""

# A line per entry, in the registry's order: name, family, bare (or -), spellings,
# aliases, signature, operands, dim, pairwise, outputs, index_data, rules (ops.reading's
# Reading); then an indented line per keyword: name, kind, default, choices, aliases,
# positional (or -), nonzero (or -). "-" is empty; lists are joined by commas.
TABLE = """\
sum reductions bare torch,method - unary 1 optional - - - -
    dim dims None - axis positional -
    keepdim bool False - - positional -
mean reductions bare torch,method - unary 1 optional - - - -
    dim dims None - axis positional -
    keepdim bool False - - positional -
prod reductions bare torch,method - unary 1 optional - - - -
    dim dim None - axis positional -
    keepdim bool False - - positional -
logsumexp reductions bare torch,method,special - unary 1 required - - - -
    dim dims None - axis positional -
    keepdim bool False - - positional -
max reductions bare torch,method - unary 1 optional maximum - - -
    dim dim None - axis positional -
    keepdim bool False - - positional -
min reductions bare torch,method - unary 1 optional minimum - - -
    dim dim None - axis positional -
    keepdim bool False - - positional -
amax reductions bare torch,method - unary 1 optional - - - -
    dim dims None - axis positional -
    keepdim bool False - - positional -
amin reductions bare torch,method - unary 1 optional - - - -
    dim dims None - axis positional -
    keepdim bool False - - positional -
var statistics bare torch,method - unary 1 optional - - - check
    dim dims None - axis positional -
    unbiased bool None - - positional -
    keepdim bool False - - positional -
    correction number None - - - -
std statistics bare torch,method - unary 1 optional - - - check
    dim dims None - axis positional -
    unbiased bool None - - positional -
    keepdim bool False - - positional -
    correction number None - - - -
norm statistics bare torch,method - unary 1 optional - - - check
    p order 'fro' - - positional -
    dim dims None - axis positional -
    keepdim bool False - - positional -
vector_norm statistics bare linalg - unary 1 optional - - - check
    ord order 2.0 - - positional -
    dim dims None - axis positional -
    keepdim bool False - - positional -
matrix_norm matrixnorms bare linalg - unary 1 optional - - - check
    ord order 'fro' - - positional -
    dim dims None - - positional -
    keepdim bool False - - positional -
linalg_norm matrixnorms - - linalg:norm unary 1 optional - - - check
    ord order None - - positional -
    dim dims None - - positional -
    keepdim bool False - - positional -
cumsum cumulative bare torch,method - unary 1 required - - - -
    dim dim None - axis positional -
cumprod cumulative bare torch,method - unary 1 required - - - -
    dim dim None - axis positional -
exp elementwise bare torch,method - unary 1 none - - - -
log elementwise bare torch,method - unary 1 none - - - -
sqrt elementwise bare torch,method - unary 1 none - - - -
abs elementwise bare torch,method torch:absolute,method:absolute unary 1 none - - - -
sin elementwise bare torch,method - unary 1 none - - - -
cos elementwise bare torch,method - unary 1 none - - - -
tan elementwise bare torch,method - unary 1 none - - - -
tanh elementwise bare torch,method,functional - unary 1 none - - - -
sigmoid elementwise bare torch,method,functional special:expit unary 1 none - - - -
relu elementwise bare torch,method,functional - unary 1 none - - - -
    inplace false False - - positional -
sinh elementwise bare torch,method - unary 1 none - - - -
cosh elementwise bare torch,method - unary 1 none - - - -
asinh elementwise bare torch,method torch:arcsinh,method:arcsinh unary 1 none - - - -
acosh elementwise bare torch,method torch:arccosh,method:arccosh unary 1 none - - - -
atanh elementwise bare torch,method torch:arctanh,method:arctanh unary 1 none - - - -
asin elementwise bare torch,method torch:arcsin,method:arcsin unary 1 none - - - -
acos elementwise bare torch,method torch:arccos,method:arccos unary 1 none - - - -
atan elementwise bare torch,method torch:arctan,method:arctan unary 1 none - - - -
log2 elementwise bare torch,method - unary 1 none - - - -
log10 elementwise bare torch,method - unary 1 none - - - -
log1p elementwise bare torch,method,special - unary 1 none - - - -
expm1 elementwise bare torch,method,special - unary 1 none - - - -
exp2 elementwise bare torch,method,special - unary 1 none - - - -
erf elementwise bare torch,method,special - unary 1 none - - - -
erfc elementwise bare torch,method,special - unary 1 none - - - -
square elementwise bare torch,method - unary 1 none - - - -
rsqrt elementwise bare torch,method - unary 1 none - - - -
reciprocal elementwise bare torch,method - unary 1 none - - - -
neg elementwise bare torch,method torch:negative,method:negative unary 1 none - - - -
sign elementwise bare torch,method - unary 1 none - - - -
floor elementwise bare torch,method - unary 1 none - - - -
ceil elementwise bare torch,method - unary 1 none - - - -
round elementwise bare torch,method,special - unary 1 none - - - -
trunc elementwise bare torch,method torch:fix,method:fix unary 1 none - - - -
frac elementwise bare torch,method - unary 1 none - - - -
softplus activations bare functional - unary 1 none - - - -
    beta number 1.0 - - positional nonzero
    threshold number 20.0 - - positional -
silu activations bare functional - unary 1 none - - - -
    inplace false False - - positional -
gelu activations bare functional - unary 1 none - - - -
    approximate choice 'none' none,tanh - positional -
leaky_relu activations bare functional - unary 1 none - - - -
    negative_slope number 0.01 - - positional -
    inplace false False - - positional -
elu activations bare functional - unary 1 none - - - -
    alpha number 1.0 - - positional -
    inplace false False - - positional -
selu activations bare torch,functional - unary 1 none - - - -
    inplace false False - - positional -
mish activations bare functional - unary 1 none - - - -
    inplace false False - - positional -
logsigmoid activations bare functional - unary 1 none - - - -
softsign activations bare functional - unary 1 none - - - -
maximum pointwise bare torch,method - unary 2 none - - - -
minimum pointwise bare torch,method - unary 2 none - - - -
atan2 pointwise bare torch,method torch:arctan2,method:arctan2 unary 2 none - - - -
hypot pointwise bare torch,method - unary 2 none - - - -
fmod pointwise bare torch,method - unary 2 none - - - -
remainder pointwise bare torch,method - unary 2 none - - - -
lerp pointwise bare torch,method - unary 3 none - - - -
xlogy pointwise bare torch,method,special - unary 2 none - - - -
where pointwise bare torch - condition 2 none - - - -
softmax softmax bare torch,method,functional,special - unary 1 optional - - - -
    dim dim None - axis positional -
log_softmax softmax bare torch,method,functional,special - unary 1 optional - - - -
    dim dim None - axis positional -
clamp clamp bare torch,method torch:clip,method:clip clamp 3 none - - - -
clamp_min clamp bare torch,method - unary 2 none - - - -
clamp_max clamp bare torch,method - unary 2 none - - - -
hardtanh clamp bare functional - unary 1 none - - - -
    min_val number -1.0 - - positional -
    max_val number 1.0 - - positional -
    inplace false False - - positional -
relu6 clamp bare functional - unary 1 none - - - -
    inplace false False - - positional -
getitem indexing bare - - getitem 1 none - - source -
arange indexing - torch - arange 1 none - - always count
tensor indexing - torch - literal 1 none - - always -
huber losses bare - - internal 1 none - - - -
probability losses bare - - internal 1 none - - - -
nll losses bare - - internal 2 none - - - -
mse_loss losses bare functional - loss 2 none - - - -
l1_loss losses bare functional - loss 2 none - - - -
smooth_l1_loss losses bare functional - loss 2 none - - - -
huber_loss losses bare functional - loss 2 none - - - -
binary_cross_entropy losses bare functional - loss 2 none - - - -
binary_cross_entropy_with_logits losses bare functional - loss 2 none - - - -
cross_entropy losses bare functional - loss 2 none - - - -
nll_loss losses bare functional - loss 2 none - - - -
kl_div losses bare functional - loss 2 none - - - -
reshape shape - torch,method - shape 1 none - - - -
view shape - method - shape 1 none - - - -
flatten shape - torch,method - shape 1 none - - - -
transpose shape - torch,method - shape 1 none - - - -
permute shape - torch,method - shape 1 none - - - -
t shape - torch,method - shape 1 none - - - -
T shape - attribute - shape 1 none - - - -
squeeze shape - torch,method - shape 1 none - - - -
unsqueeze shape - torch,method - shape 1 none - - - -
flip shape - torch,method - shape 1 none - - - -
roll shape - torch,method - shape 1 none - - - -
repeat shape - method - shape 1 none - - - -
expand shape - method - shape 1 none - - - -
triu shape - torch,method - shape 1 none - - - -
tril shape - torch,method - shape 1 none - - - -
cat shape - torch - shape 1 none - - - -
stack shape - torch - shape 1 none - - - -
matmul linalg bare torch,method,linalg - unary 2 none - - - -
mm linalg bare torch,method - unary 2 none - - - -
mv linalg bare torch,method - unary 2 none - - - -
dot linalg bare torch,method - unary 2 none - - - -
inner linalg bare torch,method - unary 2 none - - - -
outer linalg bare torch,method - unary 2 none - - - -
trace linalg bare torch,method - unary 1 none - - - -
diagonal diagonals bare torch,method,linalg - unary 1 none - - - -
    offset int 0 - - positional -
    dim1 int 0 - - positional -
    dim2 int 1 - - positional -
diag diagonals bare torch,method - unary 1 none - - - -
    diagonal int 0 - - positional -
det matrices bare torch,method,linalg - unary 1 none - - - -
logdet matrices bare torch,method - unary 1 none - - - -
slogdet matrices bare torch,method,linalg - unary 1 none - sign,logabsdet - -
inverse matrices bare torch,method linalg:inv unary 1 none - - - -
solve matrices bare linalg - unary 2 none - - - -
einsum einsum bare torch - einsum 2 none - - - -
"""
