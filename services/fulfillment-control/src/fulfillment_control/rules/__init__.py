"""Each function's routes, in a module named after it and in one shape: a function of the model
and the engine's collaborators, `build(...)`, that returns the engine with its routes declared
(`on(...)`). The business rules themselves are data, in `fulfillment_control.rulebook`."""
