// Starts Swagger UI on /schema/swagger from a file of its own, so that the page needs no
// inline script (its Content-Security-Policy allows scripts from the node only). The
// document is read from /schema/openapi.json, beside this page.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  SwaggerUIBundle({
    url: new URL("openapi.json", window.location.href).href,
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge fetched from validator.swagger.io: the page talks to this node alone.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
