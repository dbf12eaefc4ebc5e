"""extagram-ops: deploy, roll back, scale, back up, restore and inspect an Extagram stack."""
