from pfdrill.errors import (
    ClusterError,
    EnvironmentProblem,
    InvalidInput,
    ObjectNotFound,
    PfdrillError,
    SafetyRefused,
)


def test_invalid_input_one_line_names_file_line_and_text() -> None:
    err = InvalidInput("unknown severity 'SEV-5'", file="drills/x.yaml", line=12, text="  severity: SEV-5\n")
    assert str(err) == "drills/x.yaml:12: unknown severity 'SEV-5' (line: 'severity: SEV-5')"
    assert "\n" not in str(err)
    assert err.exit_code == 2


def test_exit_codes_follow_the_tree() -> None:
    assert issubclass(ObjectNotFound, ClusterError)
    assert issubclass(ClusterError, EnvironmentProblem)
    assert EnvironmentProblem.exit_code == 3
    assert SafetyRefused.exit_code == 4
    assert PfdrillError.exit_code == 1
