"""The ranges the analyses accept, in a module that imports nothing (the CLI's parser uses them)."""

MAX_GRID = 201  # points per side of a surface: 201 x 201 is already 40,401 evaluations
MAX_LINE_POINTS = 1001
MAX_SPAN = 1000.0
MAX_STEPS = 100_000  # diagnose's training steps
