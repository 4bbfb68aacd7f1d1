#pragma once

#include <string_view>
#include <vector>

namespace contextd::server {

// A static file of the agent timeline page (/ui/), compiled into the binary from server/ui.
struct UiAsset {
  std::string_view name;  // "index.html", "app.js", "style.css"
  std::string_view content_type;
  std::string_view body;
};

const std::vector<UiAsset>& UiAssets();

}  // namespace contextd::server
