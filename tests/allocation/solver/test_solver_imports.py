"""Guard: the solver is pure Python over its own modules, numpy and OR-Tools; it never reaches Django or
the platform's apps."""

import ast
import subprocess
import sys

from solver_builders import HERE

ROOT = HERE.parents[2]
SOLVER = ROOT / "allocation" / "solver"
ALLOWED = {"numpy", "ortools", "pybind11_abseil", "__future__"} | set(sys.stdlib_module_names)


def test_solver_modules_import_only_the_standard_library_numpy_and_ortools():
    for path in SOLVER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= ALLOWED, f"{path.name} imports {roots - ALLOWED}"


def test_importing_the_solver_loads_no_django_and_no_app():
    code = (
        "import sys, allocation.solver, allocation.solver.__main__\n"
        "apps = {'django', 'rest_framework', 'celery', 'members', 'alliance', 'tests'}\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in apps\n"
        "       or (m.startswith('allocation.') and not m.startswith('allocation.solver'))]\n"
        "print(bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
