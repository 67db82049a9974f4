"""docs/backprop.md is executable: every ```python block runs, in order, in one namespace, and
its assertions (against the derived formulas and minigan's gradcheck) must hold."""
import os
import re

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "backprop.md")


def test_backprop_document_checks_pass(path):
    """On the plain path the doc's checks run the layer files' own math; on the fast path the
    registered fast versions (the ``path`` fixture runs it both ways)."""
    with open(DOC) as f:
        text = f.read()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) >= 20
    namespace = {}
    for i, block in enumerate(blocks):
        code = compile(block, f"{DOC} (python block {i + 1})", "exec")
        exec(code, namespace)
