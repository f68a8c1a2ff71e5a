# SPDX-License-Identifier: Apache-2.0
# fish completion for @TOOL@, made from its own option tables.
@PATH@ completion fish 2>/dev/null | source
