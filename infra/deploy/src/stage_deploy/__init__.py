"""`make deploy STAGE=<name>` and `make remove STAGE=<name>`: a stage of the shop in an AWS account.

The event hub first (every service imports its exports), then each service, each stack with its own
`serverless deploy` (the osls CLI, `make/serverless`) after its dependencies layer is built
(`make/layer`); removal in the reverse order. Nothing is deployed before the caller's credentials
have been checked, and a deploy stops at the first stack that fails, naming it. The stage's
endpoints, read from the stacks' CloudFormation outputs, are written in the shape of the local
cloud's `.localcloud/endpoints.json`, so whatever drives the local cloud (the end-to-end tests) can
drive the stage.

Modules: `stacks` (a stack's folder and name), `aws` (the credentials check and the outputs),
`endpoints` (the endpoints file), `steps` (what is left to do by hand), `deployment` (the order
and the commands), `cli`.
"""
