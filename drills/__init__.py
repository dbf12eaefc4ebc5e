"""Operations drills: each one brings up its own stack, runs load, does one thing to it."""
