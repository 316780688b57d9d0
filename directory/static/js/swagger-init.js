// Starts Swagger UI on /api/v1/docs from a file, not an inline script, so the page works under the
// site's Content-Security-Policy. Settings come from the container's data attributes.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui-container");
  if (!el || typeof SwaggerUIBundle === "undefined") { return; }
  var config = {
    url: el.dataset.specUrl,
    dom_id: "#swagger-ui-container",
    // Swagger UI otherwise sends the spec's address to a public validator and shows its badge.
    validatorUrl: null
  };
  var extra = JSON.parse(el.dataset.config || "{}");
  Object.keys(extra).forEach(function (key) { config[key] = extra[key]; });
  window.ui = SwaggerUIBundle(config);
}());
