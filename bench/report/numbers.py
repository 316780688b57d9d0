"""How the generated figures are written: one rule per kind of number, so every table rounds alike."""

from decimal import ROUND_HALF_UP, Decimal


def fixed(value: float, places: int = 0) -> str:
    """Rounded half up (66.5 ms reads 67, as a reader rounds), with thousands separators."""
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{exact:,.{places}f}"


def ms(value: float) -> str:
    """Search timings: two decimals under a millisecond, where the differences live, one above."""
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"
