// fansite_edge: the single-page app's own routes, such as /artists/123, are
// served /index.html, so that a fan can open or reload any page of the app.
// A path with a file extension (/assets/app.js, /favicon.ico) keeps its path,
// and a missing file is a real 403 or 404. This function runs on the site's
// (default) cache behavior only: the API's path pattern never comes here, so
// the API's own 404s, and WAF's 403s, reach the client as they are.
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (uri !== '/' && last.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
