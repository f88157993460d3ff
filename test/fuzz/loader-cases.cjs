'use strict';
module.exports = { loaderCases: () => [], prepareLoader: async () => {} };
