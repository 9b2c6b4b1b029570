# Checks the library's symbol visibility (style.md rule 12): the symbols a
# consumer can link against are exactly the IOMMU_EXPORT prototypes of the
# public headers.  Works on the shared library (its dynamic symbol table)
# and on the static archive (global symbols with DEFAULT visibility, which
# is what a later shared link would export).  Internal cross-file names
# (iommu__*, smmuv3__*) must never be among them.
#
#   cmake -DLIB=<libiommu.{a,so}> -DREADELF=<readelf> -DHEADERS=<include/iommu>
#         -P check_exports.cmake

cmake_minimum_required(VERSION 3.21)

foreach(var LIB READELF HEADERS)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "check_exports: ${var} not set")
    endif()
endforeach()

# The declared API: the identifier before the first '(' after IOMMU_EXPORT.
set(declared "")
file(GLOB headers "${HEADERS}/*.h")
foreach(h ${headers})
    file(READ "${h}" text)
    string(REGEX MATCHALL "IOMMU_EXPORT[^(;]*\\(" decls "${text}")
    foreach(d ${decls})
        string(REGEX MATCH "([A-Za-z_][A-Za-z0-9_]*)[ \t\n]*\\($" _ "${d}")
        list(APPEND declared "${CMAKE_MATCH_1}")
    endforeach()
endforeach()
list(LENGTH declared ndeclared)
if(ndeclared EQUAL 0)
    message(FATAL_ERROR "check_exports: no IOMMU_EXPORT in ${HEADERS}")
endif()

if(LIB MATCHES "\\.so(\\.[0-9]+)*$|\\.dylib$")
    set(symopt --dyn-syms)
else()
    set(symopt --syms)
endif()
execute_process(COMMAND "${READELF}" -W ${symopt} "${LIB}"
    OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_exports: ${READELF} failed on ${LIB}")
endif()

# readelf: Num: Value Size Type Bind Vis Ndx Name
set(exported "")
string(REPLACE "\n" ";" lines "${out}")
foreach(l ${lines})
    if(l MATCHES "^ *[0-9]+: +[0-9a-f]+ +[0-9]+ +(FUNC|OBJECT|TLS) +(GLOBAL|WEAK) +DEFAULT +([0-9]+|COM|ABS) +([^ @]+)")
        list(APPEND exported "${CMAKE_MATCH_4}")
    endif()
endforeach()
list(REMOVE_DUPLICATES exported)
# Linker-provided entry points of a shared object.
list(REMOVE_ITEM exported _init _fini)

set(bad "")
foreach(s ${exported})
    if(s MATCHES "^(iommu|smmuv3)__")
        list(APPEND bad "internal symbol exported: ${s}")
    elseif(NOT s IN_LIST declared)
        list(APPEND bad "exported but not IOMMU_EXPORT in a public header: ${s}")
    endif()
endforeach()
foreach(s ${declared})
    if(NOT s IN_LIST exported)
        list(APPEND bad "declared IOMMU_EXPORT but not exported: ${s}")
    endif()
endforeach()
if(bad)
    string(REPLACE ";" "\n  " msg "${bad}")
    message(FATAL_ERROR "check_exports (${LIB}):\n  ${msg}")
endif()
list(LENGTH exported nexported)
message(STATUS "check_exports: ${nexported} exported symbols, all declared")
