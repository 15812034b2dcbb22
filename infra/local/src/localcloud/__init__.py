"""An AWS-like cloud on one machine, assembled from real parts: one package per thing it stands in
for, each saying in its docstring what behaviour it reproduces and where it differs.

- `moto`: the AWS APIs (moto's server in a process of its own, with fixes);
- `deploy`: `serverless package`, the transform that makes a template work in moto, and the stack
  created from it;
- `lambda_`: Lambda (each function a process under the official runtime interface client, served
  the Runtime API; the Invoke API);
- `event_sources`: Lambda event source mappings (Kinesis and DynamoDB stream pollers per shard,
  SQS pollers);
- `eventbridge`: rule delivery to the real targets, and the PutEvents endpoint;
- `http_api`: API Gateway HTTP APIs with JWT authorizers and the local signing key;
- `stripe`: a fake Stripe the official SDK talks to, with signed webhooks;
- `timers`: DynamoDB TTL expiry and one-shot Scheduler schedules.

Around them: `trail` (every event that crosses a bus), `faults` (parked faults listed and
resubmitted), `lifecycle` (`Part`, `HttpPart`, `LoopPart`: how every part starts and stops),
`backoff` (the one retry backoff), `cloud` and `cli` (all of it together), `aws`, `endpoints`,
`logs`, `testing`.

It knows serverless.yml, CloudFormation and Lambda semantics, never a particular service.
"""
