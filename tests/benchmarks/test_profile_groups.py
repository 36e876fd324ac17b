"""benchmarks/profile_paths.py: op types group the same with and without oneDNN's renamed ops."""
import sys

from conftest import TESTS_DIR

sys.path.insert(0, str(TESTS_DIR.parent / "benchmarks"))
import profile_paths  # noqa: E402


def test_onednn_op_names_group_as_their_plain_ops():
    for plain, renamed in [("MatMul", "_MklMatMul"), ("Einsum", "_MklEinsum"), ("MatMul", "_MklNativeFusedMatMul"),
                           ("BatchMatMulV2", "_MklBatchMatMulV2"), ("Transpose", "_MklTranspose"),
                           ("ConcatV2", "_MklConcatV2")]:
        assert profile_paths.group_of(renamed) == profile_paths.group_of(plain), renamed
    assert profile_paths.group_of("_MklNativeFusedMatMul") == "matmul"
    assert profile_paths.group_of("Sigmoid") == "elementwise"
    assert profile_paths.group_of("SomethingNew") == "other"
