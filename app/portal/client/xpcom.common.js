// xtreamd: no Stalker client bundle is installed (see --portal-client-dir). This file only
// tells Stalker clients that read it (EStalker and others) where the portal API is; a MAG box
// needs the operator to install a client bundle in that directory.
var stb = stb || {};

(function () {
    var pattern = /^(https?):\/\/([^\/]+)\/(.*)$/;

    this.portal_protocol = document.URL.replace(pattern, "$1");
    this.portal_ip = document.URL.replace(pattern, "$2");
    this.portal_path = document.URL.replace(pattern, "$3");

    this.ajax_loader = this.portal_protocol + '://' + this.portal_ip + '/portal.php';
}).call(stb);
