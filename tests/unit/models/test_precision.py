"""Which precision the plate models run in: never bfloat16, int8 only where it pays."""

from __future__ import annotations

import pytest

from models.runtime import Precision, choose_precision, relevant_flags

# /proc/cpuinfo flags of three machines: an AVX512 server with VNNI and BF16, a Zen-1 CPU
# (AVX2, no dot products), a Raspberry Pi 5 (ARMv8.2: asimddp).
SERVER = frozenset({"fpu", "sse4_2", "avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"})
ZEN1 = frozenset({"fpu", "sse4_2", "avx2", "fma", "sha_ni"})
PI5 = frozenset({"fp", "asimd", "asimdhp", "asimddp", "fphp", "lrcpc"})


@pytest.mark.parametrize("cpu", [SERVER, PI5])
def test_auto_is_int8_where_the_cpu_has_dot_products_and_the_model_ships(
    cpu: frozenset[str],
) -> None:
    assert choose_precision(Precision.AUTO, True, cpu) is Precision.INT8
    assert choose_precision(Precision.AUTO, False, cpu) is Precision.F32


def test_auto_is_float32_without_dot_products_even_with_avx2() -> None:
    assert choose_precision(Precision.AUTO, True, ZEN1) is Precision.F32


def test_an_explicit_choice_is_kept_whatever_the_cpu() -> None:
    assert choose_precision(Precision.F32, True, SERVER) is Precision.F32
    assert choose_precision(Precision.INT8, True, ZEN1) is Precision.INT8


def test_int8_without_an_int8_model_is_refused_with_the_way_out() -> None:
    with pytest.raises(RuntimeError, match="choose precision f32 or auto"):
        choose_precision(Precision.INT8, False, SERVER)


def test_bfloat16_is_not_a_precision_the_box_can_ask_for() -> None:
    assert {precision.value for precision in Precision} == {"auto", "f32", "int8"}


def test_the_flags_quoted_with_timings_are_the_ones_that_decide_speed() -> None:
    assert relevant_flags(SERVER) == ["amx_tile", "avx2", "avx512_bf16", "avx512_vnni", "avx512f"]
    assert relevant_flags(ZEN1) == ["avx2"]
    assert relevant_flags(PI5) == ["asimd", "asimddp", "asimdhp", "fphp"]
