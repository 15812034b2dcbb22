"""Each function's rules, in a module named after it and in one shape: a function of the model and
the engine's collaborators, `build(...)`, that returns the engine with its routes declared
(`on(...)`)."""
