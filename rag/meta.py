"""Sentences about the document itself ("in dit hoofdstuk ...", "zie tabel 2") answer no
question; the answer step and the sentence ranker both recognise them by this pattern."""

import re

META = re.compile(
    r"\b(in\s+dit\s+(hoofdstuk|verslag|rapport)|dit\s+hoofdstuk|in\s+hoofdstuk\s+\d|"
    r"hieronder|hierna|zie\s+(figuur|tabel|hoofdstuk|paragraaf)|komt\s+aan\s+bod|"
    r"komen\s+aan\s+bod)\b",
    re.I,
)
