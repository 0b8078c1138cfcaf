"""What the PyTorch parity tests share: the error measure, the verdict of one case, and the run loop.

A case is compared tensor by tensor with relative_error (max |ours − torch| / max |torch|); run_cases prints one
line per case, the tensors over the tolerance, and the closing `N passed, M failed` line, and sets the exit code.
"""
import argparse
import sys
import tempfile

TOLERANCE = 1e-4


def relative_error(ours, reference):
    scale = reference.abs().max().item()
    return (ours.double() - reference.double()).abs().max().item() / max(scale, 1e-30)


def verdict(errors):
    """(failed descriptions, worst name, worst error) of a {tensor name: relative error} map."""
    worst = max(errors, key=errors.get)
    failed = [f"{name}: {error:.2e}" for name, error in errors.items() if not error <= TOLERANCE]
    return failed, worst, errors[worst]


def by_kind(errors):
    """The worst error of each kind of tensor ("logits.0" and "logits.1" are both logits), as one printable line."""
    worst = {}
    for name, error in errors.items():
        kind = {"grad": "gradients", "step_logits": "KV-cache steps"}.get(name.split(".")[0], name.split(".")[0])
        worst[kind] = max(worst.get(kind, 0.0), error)
    return " · ".join(f"{kind} {error:.1e}" for kind, error in worst.items())


def run_cases(description, cases, check_case):
    """Parses --runner/--tinylm, runs check_case(runner, workdir, *case) for each (label, case) and exits.
    check_case returns verdict(errors), optionally followed by a line of details printed under the case's."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runner", required=True)
    parser.add_argument("--tinylm")
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for label, case in cases:
            problems, worst, worst_error, *details = check_case(args.runner, workdir, *case)
            print(f"{'ok' if not problems else 'FAIL':4} {label}: worst relative error {worst_error:.2e} ({worst})")
            for line in details:
                print(f"     {line}")
            for problem in problems:
                print(f"     {problem}")
            passed += not problems
            failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
