"""Stands in for `serverless deploy` and CloudFormation's side of it: a stack deployed into the
local cloud from the very artifacts that would deploy to AWS.

What it reproduces: `package` runs `serverless package` (osls, offline); `transform` makes the
template work in moto's CloudFormation by a short, listed rewrite (every change reported at
`make up`), of which `rule_routes` is the step that routes rule targets through queues; `create`
uploads the package, creates the stack, re-applies what moto ignores (DynamoDB TTL, Kinesis
on-demand mode), creates through their API what moto's CloudFormation lacks (Firehose delivery
streams), and reads back what the local cloud runs (functions, event source mappings, HTTP
routes, rule targets). Whatever a removed resource needs from the stack is exposed as a stack
output, so CloudFormation itself resolves every intrinsic function.

Where it differs: one create instead of create-upload-update (moto registers exports only on
create); no change sets, updates or rollbacks of a deployed stack; dependency layers are left out
(functions run on the workspace's site-packages).
"""

from localcloud.deploy.create import DeployedStack
from localcloud.deploy.package import DeployError, Package
from localcloud.deploy.transform import TemplateError, Transformed

__all__ = ["DeployError", "DeployedStack", "Package", "TemplateError", "Transformed"]
