#include "cmd/gantry/output.hpp"

#include "cmd/gantry/table.hpp"

#include <iostream>

namespace gantry::cli {

int print_error(const Error& error) {
    std::cerr << "gantry: " << error.message() << "\n";
    return 1;
}

int finish(const Status& status) {
    return status.ok() ? 0 : print_error(status.error());
}

void print_empty(std::string_view what, std::string_view ns) {
    std::cerr << "no " << what;
    if (!ns.empty()) std::cerr << " in namespace \"" << ns << "\"";
    std::cerr << "\n";
}

void print_listing(const Table& table, std::string_view what, std::string_view ns) {
    table.print(std::cout);
    std::cout << std::flush;
    if (table.empty()) print_empty(what, ns);
}

} // namespace gantry::cli
