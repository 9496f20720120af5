"""Named limits, checked before any heavy work. README lists them; tests use them.

They bound what a hostile or careless input can cost: parsing, SymPy's exact arithmetic
and torch's memory all stay small and fast inside them.
"""

MAX_EXPRESSION_CHARS = 2_000  # characters in the expression string
MAX_DEPTH = 64  # nesting depth of the expression tree (and of parentheses)
MAX_NODES = 400  # nodes in the expression tree
MAX_NUMBER_CHARS = 40  # characters in one numeric literal
MAX_EXPONENT = 1_000  # |exponent| of a ** whose exponent is a constant
MAX_CONSTANT = 1e300  # |value| of any constant sub-expression (9**9**9 is refused)
MAX_EXACT_DIGITS = 1_000  # estimated digits of SymPy's exact numbers ((2*x)**1000: 302)
MAX_DERIVATIVE_WORK = 2_000  # sum over nodes of (nested chain/product-rule level)**2
MAX_NAME_CHARS = 32  # characters in a variable name
MAX_EINSUM_CHARS = 32  # characters in einsum's subscript string
MAX_VARIABLES = 16  # distinct variables in one expression
MAX_VECTOR_LENGTH = 10_000_000  # elements in one vector (80 MB as float64)
MAX_EVALUATION_ELEMENTS = 50_000_000  # elements of one array in the symbolic evaluation (400 MB)
MAX_VALUE_TEXT_CHARS = 200_000_000  # characters read for one variable's values
MAX_SYMBOLIC_SECONDS = 10.0  # wall time for SymPy's derivation, a backstop behind the limits above
MAX_HESSIAN_ELEMENTS = 1_000  # differentiated elements for --hessian (8 MB per witness)
MAX_JACOBIAN_N = 1_000  # --jacobian: elements of y and of each x (J: 8 MB per witness)
MAX_JACOBIAN_FILE_ENTRIES = 2_000_000  # --jacobian-out: entries of J per witness, all x together
MAX_FD_ELEMENTS = 10_000  # --check-fd: 2 forward passes per element, so O(n**2) in all
MAX_EXTRAS_SECONDS = 60.0  # wall time for --steps, --check-fd, --graph, --v and --jacobian together
MAX_CASES = 10_000  # cases in one --cases file
MAX_CASES_FILE_BYTES = 32_000_000  # bytes read of a --cases file (--cases /dev/zero must end)
MAX_BATCH_ELEMENTS = 10_000_000  # numbers in all the values and expectations of one batch
