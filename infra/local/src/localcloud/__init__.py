"""An AWS-like cloud on one machine, assembled from real parts.

- moto's HTTP server is the AWS API (`moto_server`);
- each stack is packaged by the Serverless Framework CLI and created through moto's
  CloudFormation after a small, listed transform (`transform`, `deploy`);
- each Lambda function runs as its own process under the official runtime interface client,
  served the Lambda Runtime API (`lambdas`);
- event sources are driven as AWS drives them (`event_sources`, `eventbridge`), HTTP APIs are served
  as API Gateway payload v2.0 (`http_api`), Stripe is faked faithfully (`stripe_fake`), and every
  event that crosses a bus is kept in a trail (`trail`).

It knows serverless.yml, CloudFormation and Lambda semantics, never a particular service.
"""
