"""Instruction + image → checked plan: grounders, output parsers, projection and validation."""
