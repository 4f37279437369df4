# Feature checks for the libraries CentOS 7 has (libsolv 0.6.34, libarchive 3.1.2, OpenSSL
# 1.0.2k), so that the applier's sources build there too; each result is a compile definition
# the code tests. OpenSSL is told apart by OPENSSL_VERSION_NUMBER (repo/base/openssl_compat.hpp).
# Each check can be forced (-DAIRGAP_HAVE_...=OFF) to compile the EL7 path here, where it can.
include(CheckCXXSourceCompiles)
include(CMakePushCheckState)

cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_INCLUDES ${SOLV_INCLUDE_DIRS})
# libsolv 0.7 tags its structs s_Pool, s_Repo, s_Queue; 0.6 tags them _Pool, _Repo, _Queue.
check_cxx_source_compiles("#include <solv/pool.h>
int main() { struct s_Pool* p = static_cast<Pool*>(nullptr); return p != nullptr; }" AIRGAP_HAVE_SOLV_S_TAGS)
set(CMAKE_REQUIRED_INCLUDES ${LIBARCHIVE_INCLUDE_DIRS})
set(CMAKE_REQUIRED_LIBRARIES ${LIBARCHIVE_LINK_LIBRARIES})
# libarchive 3.2 added la_int64_t / la_ssize_t and archive_entry_pathname_utf8.
check_cxx_source_compiles("#include <archive.h>
int main() { la_int64_t n = 0; la_ssize_t s = 0; return static_cast<int>(n + s); }" AIRGAP_HAVE_LA_INT64_T)
check_cxx_source_compiles("#include <archive_entry.h>
int main() { return archive_entry_pathname_utf8(nullptr) != nullptr; }" AIRGAP_HAVE_ARCHIVE_PATHNAME_UTF8)
cmake_pop_check_state()

if(NOT AIRGAP_HAVE_SOLV_S_TAGS)
  add_compile_definitions(AIRGAP_SOLV_UNDERSCORE_TAGS)
endif()
if(NOT AIRGAP_HAVE_LA_INT64_T)
  add_compile_definitions(AIRGAP_NO_LA_INT64_T)
endif()
if(NOT AIRGAP_HAVE_ARCHIVE_PATHNAME_UTF8)
  add_compile_definitions(AIRGAP_NO_ARCHIVE_PATHNAME_UTF8)
endif()
