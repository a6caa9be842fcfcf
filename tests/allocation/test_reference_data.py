"""Loading the accelerator models from data/accelerator_specs_core.csv, and the load_reference_data command."""
import csv
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from allocation.models import HardwareType
from allocation.reference import ACCELERATORS_FILE, DATA_DIR, hardware_types_load
from members.models import MemberState

pytestmark = pytest.mark.django_db

HEADER = ("accelerator_key,hardware_name,manufacturer,release_date,dense_16bit_tensor_tflops,fp8_tflops,fp32_tflops,"
          "memory_gb,memory_bandwidth_tbps,tdp_w,release_price_usd,h100_sxm_equiv_16bit,source,notes\n")


def _rows_with_factor() -> int:
    with (DATA_DIR / ACCELERATORS_FILE).open(newline="", encoding="utf-8") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["h100_sxm_equiv_16bit"].strip())


def test_hardware_types_load_creates_one_type_per_accelerator_with_a_factor():
    loaded = hardware_types_load()

    assert loaded == 27 == _rows_with_factor()
    assert HardwareType.objects.count() == 27


def test_hardware_types_load_reads_the_h100_equivalents_and_specs():
    hardware_types_load()

    h100 = HardwareType.objects.get(key="NVIDIA_H100_SXM5_80GB")
    assert h100.h100e == Decimal("1.000")
    assert h100.name == "NVIDIA H100 SXM5 80GB"
    assert h100.manufacturer == "NVIDIA"
    assert str(h100.release_date) == "2022-09-20"
    assert h100.memory_gb == Decimal("80")
    assert h100.dense_16bit_tflops == Decimal("989.4")
    assert h100.tdp_w == 700
    assert HardwareType.objects.get(key="NVIDIA_B200").h100e == Decimal("2.274")
    assert HardwareType.objects.get(key="AMD_MI300X").h100e == Decimal("1.321")
    assert HardwareType.objects.get(key="NVIDIA_V100_SXM2_32GB").h100e == Decimal("0.126")


def test_hardware_types_load_keeps_blank_specs_blank():
    hardware_types_load()

    assert HardwareType.objects.get(key="NVIDIA_L40S").release_date is None  # not stated in its source
    assert HardwareType.objects.get(key="NVIDIA_GH200").memory_gb is None  # Epoch gives none


def test_hardware_types_load_skips_the_a10_which_has_no_h100e_factor():
    hardware_types_load()

    assert not HardwareType.objects.filter(key="NVIDIA_A10").exists()


def test_hardware_types_load_twice_updates_in_place():
    hardware_types_load()
    HardwareType.objects.filter(key="NVIDIA_B200").update(h100e=Decimal("9.999"), name="edited by hand")

    assert hardware_types_load() == 27

    assert HardwareType.objects.count() == 27
    b200 = HardwareType.objects.get(key="NVIDIA_B200")
    assert (b200.h100e, b200.name) == (Decimal("2.274"), "NVIDIA B200")


def test_hardware_types_load_reads_another_data_dir(tmp_path):
    (tmp_path / ACCELERATORS_FILE).write_text(
        HEADER
        + "X_FAST,Fast chip,Acme,2025-01-02,1978.8,,,96,,800,,2.000,test,\n"
        + "X_UNKNOWN,Unknown chip,Acme,,,,,24,,150,,,test,no tensor value\n",
        encoding="utf-8",
    )

    assert hardware_types_load(data_dir=tmp_path) == 1

    fast = HardwareType.objects.get()
    assert (fast.key, fast.h100e, fast.tdp_w, fast.dense_16bit_tflops) == ("X_FAST", Decimal("2.000"), 800,
                                                                           Decimal("1978.8"))


def test_load_reference_data_command_loads_states_and_hardware_and_prints_counts():
    out = StringIO()

    call_command("load_reference_data", stdout=out)
    call_command("load_reference_data", stdout=out)

    assert "Loaded 218 member states and 27 hardware types" in out.getvalue()
    assert MemberState.objects.count() == 218
    assert HardwareType.objects.count() == 27
