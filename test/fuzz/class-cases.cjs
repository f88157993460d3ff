'use strict';
module.exports = { classCases: () => [] };
