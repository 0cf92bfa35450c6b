"""The Dutch reader: a cross-encoder on multilingual-e5-small, trained here (issue 9)."""
