// An osls plugin that keeps `serverless package` offline for stacks with layers. osls compares
// each layer with the one the deployed stack last uploaded (a CloudFormation DescribeStacks call)
// on every packaging, which needs AWS credentials and a network; that comparison only saves an
// upload, so on `package` it is skipped. `serverless deploy`, which has credentials, still makes it.
'use strict';

class OfflineLayers {
  constructor(serverless) {
    const [command] = (serverless.processedInput && serverless.processedInput.commands) || [];
    if (command !== 'package') return;
    for (const plugin of serverless.pluginManager.plugins) {
      if (typeof plugin.compareWithLastLayer === 'function') {
        plugin.compareWithLastLayer = async () => undefined;
      }
    }
  }
}

module.exports = OfflineLayers;
