// What every command prints when things go wrong or there is nothing to list.
#pragma once

#include "core/errors.hpp"

#include <iostream>
#include <string_view>

namespace gantry::cli {

// One line on stderr, "gantry: <message>"; returns the exit code 1.
int print_error(const Error& error);

// 0 on success, else print_error.
int finish(const Status& status);

// After an empty listing: a note on stderr, "no <what>" or, for a listing scoped to a namespace,
// "no <what> in namespace "<ns>"". stdout keeps only the header, so scripts see no data rows.
void print_empty(std::string_view what, std::string_view ns = {});

class Table;

// A finished listing on stdout: the table, then print_empty's note when it has no rows.
void print_listing(const Table& table, std::string_view what, std::string_view ns = {});

// `ls -q`: the key of each item, one a line.
template <typename Range, typename KeyFn>
void print_keys(const Range& items, KeyFn key) {
    for (const auto& item : items)
        std::cout << key(item) << "\n";
    std::cout << std::flush;
}

} // namespace gantry::cli
